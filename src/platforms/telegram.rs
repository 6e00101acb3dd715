//! Telegram, through teloxide: updates by long polling or, in webhook mode, from the store
//! (`POST /telegram/webhook` puts them there), and `sendMessage` with HTML for sends
//! (`sendPoll` for a poll).
//! The only module that knows teloxide. It turns updates into [`Incoming`] for the [`Inbox`] it
//! is handed and teloxide's errors into [`SendError`]; it decides nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use teloxide::payloads::{
    CreateChatInviteLinkSetters, GetUpdatesSetters, PinChatMessageSetters,
    RestrictChatMemberSetters, SendMessageSetters, SendPhotoSetters, SendPollSetters,
    SetWebhookSetters,
};
use teloxide::requests::Requester;
use teloxide::types::{
    AllowedUpdate, ChatId, ChatMemberUpdated, ChatPermissions, FileId, InlineKeyboardButton,
    InlineKeyboardMarkup, InputFile, InputPollOption, MaybeAnonymousUser, MessageId, ParseMode,
    ReplyParameters, Update, UpdateKind, User, UserId,
};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::Notify;

use super::{
    ActionDone, ChatAction, Delivered, Inbox, InboxError, Incoming, IncomingContent, Member,
    Messenger, Part, PlatformLimits, SendError,
};
use crate::clock::Clock;
use crate::cluster::LeaseGuard;
use crate::config::{LimitsConfig, TelegramConfig};
use crate::domain::Platform;
use crate::i18n::Markup;
use crate::shutdown::{Shutdown, until_shutdown};
use crate::store::telegram_updates::{self, StoredUpdate};
use crate::store::{Store, StoreResult, dead_letters};

/// How long one `getUpdates` call waits for news (long polling).
const POLL_TIMEOUT_SECONDS: u32 = 10;
/// How long a group's list of administrators is trusted before it is asked for again.
const ADMINS_FRESH_FOR: Duration = Duration::from_secs(10 * 60);
/// After `getChatAdministrators` failed, how long before it is tried again for that chat
/// (meanwhile nobody but an anonymous admin counts as an admin there).
const ADMINS_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Telegram's longest invite link name, in characters.
const MAX_LINK_NAME_CHARS: usize = 32;
/// In webhook mode, how often the store is looked at when no bell rang: updates that another
/// process took (Telegram may post to any of them) are found within this.
const STORED_UPDATES_LOOK_EVERY: Duration = Duration::from_secs(1);
/// After a failed step (an update the inbox could not store, a busy database), the pause before
/// the same update is tried again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// The update kinds polled for: messages (with `new_chat_members`), button presses, joins
/// (`chat_member`, which Telegram sends only when named here and only to an admin bot), join
/// requests to the VIP room and answers to our polls (`poll_answer`).
pub const ALLOWED_UPDATES: [AllowedUpdate; 5] = [
    AllowedUpdate::Message,
    AllowedUpdate::CallbackQuery,
    AllowedUpdate::ChatMember,
    AllowedUpdate::ChatJoinRequest,
    AllowedUpdate::PollAnswer,
];

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("`telegram.api_url` is not a URL: {0}")]
    BadApiUrl(String),
    #[error("Telegram refused the bot token (check `telegram.token` / ENCORE_TELEGRAM_TOKEN)")]
    InvalidToken,
    #[error("`telegram.webhook_url` is not a URL: {0}")]
    BadWebhookUrl(String),
    #[error(
        "Telegram refused `telegram.webhook_url` for setWebhook: {0} (it must be a public https:// URL on port 443, 80, 88 or 8443)"
    )]
    WebhookRefused(String),
}

pub struct TelegramAdapter {
    bot: Bot,
    username: Option<String>,
    limits: PlatformLimits,
    /// `telegram.paid_broadcast`: messages go with `allow_paid_broadcast`.
    paid_broadcast: bool,
    /// Per group: the administrators' user ids and when they were asked for.
    admins: HashMap<i64, (Instant, HashSet<u64>)>,
    /// How updates arrive (`telegram.mode`).
    intake: Intake,
}

/// `telegram.mode`, with what `setWebhook` needs in webhook mode.
enum Intake {
    Polling,
    Webhook {
        url: url::Url,
        secret_token: SecretString,
    },
}

/// Where webhook mode finds the updates `POST /telegram/webhook` stored, the bell that handler
/// rings after storing one in this process, and the clock that dates their handling.
pub struct StoredUpdates {
    pub store: Store,
    pub bell: Arc<Notify>,
    pub clock: Arc<dyn Clock>,
}

/// The sending half, handed to the dispatcher.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    limits: PlatformLimits,
    /// Every message carries `allow_paid_broadcast` (`telegram.paid_broadcast`): above the free
    /// 30 a second Telegram refuses a send without it, and bills only the sends above that.
    paid_broadcast: bool,
}

pub fn limits_from(config: &LimitsConfig) -> PlatformLimits {
    PlatformLimits {
        per_second: config.telegram_per_second,
        per_chat_interval: Duration::from_secs_f64(
            1.0 / f64::from(config.telegram_per_chat_per_second.max(1)),
        ),
        per_group_interval: Duration::from_secs_f64(
            60.0 / f64::from(config.telegram_per_group_per_minute.max(1)),
        ),
    }
}

impl TelegramAdapter {
    /// Builds the bot and asks Telegram who it is. A refused token is an error; an unreachable
    /// Telegram is not (polling keeps trying), so a network blip does not stop `serve` starting.
    pub async fn connect(
        config: &TelegramConfig,
        limits: &LimitsConfig,
    ) -> Result<TelegramAdapter, TelegramError> {
        let url = reqwest_url(&config.api_url)?;
        let intake = match &config.webhook_url {
            Some(webhook_url) if config.webhook_mode() => Intake::Webhook {
                url: url::Url::parse(webhook_url)
                    .map_err(|err| TelegramError::BadWebhookUrl(format!("{webhook_url}: {err}")))?,
                secret_token: config.webhook_secret_token.clone(),
            },
            // Webhook mode without a URL does not load (`config::checks`).
            _ => Intake::Polling,
        };
        let bot = Bot::new(config.token.expose_secret()).set_api_url(url);
        let username = match bot.get_me().await {
            Ok(me) => me.user.username.clone(),
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                return Err(TelegramError::InvalidToken);
            }
            Err(err) => {
                tracing::warn!(error = %err, "Telegram did not answer getMe; will keep trying while polling");
                None
            }
        };
        Ok(TelegramAdapter {
            bot,
            username,
            limits: limits_from(limits),
            paid_broadcast: config.paid_broadcast,
            admins: HashMap::new(),
            intake,
        })
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn sender(&self) -> TelegramSender {
        TelegramSender {
            bot: self.bot.clone(),
            limits: self.limits,
            paid_broadcast: self.paid_broadcast,
        }
    }

    /// Takes updates until shutdown, as `telegram.mode` says: by long polling, or from the
    /// store in webhook mode. Either way each update goes through [`Self::take_update`], and
    /// only while `lease` (this process's leadership) holds.
    pub async fn run(
        self,
        inbox: Arc<dyn Inbox>,
        stored: StoredUpdates,
        lease: LeaseGuard,
        shutdown: Shutdown,
    ) -> Result<(), TelegramError> {
        match self.intake {
            Intake::Polling => self.poll(inbox, lease, shutdown).await,
            Intake::Webhook { .. } => self.take_stored(inbox, stored, lease, shutdown).await,
        }
    }

    /// Long-polls until shutdown. An update is confirmed (by the next offset) only after the
    /// router has stored its effects; a crash in between re-delivers it, and the router's record
    /// of processed updates makes the re-delivery harmless.
    ///
    /// Telegram allows one poller per token: each `getUpdates` is asked for only while `lease`
    /// holds, and waits no longer than the lease still holds, so a process whose lease ran out
    /// (paused, deposed) is not polling when the next leader starts to.
    async fn poll(
        mut self,
        inbox: Arc<dyn Inbox>,
        lease: LeaseGuard,
        mut shutdown: Shutdown,
    ) -> Result<(), TelegramError> {
        let mut offset: i32 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            if !lease.may_send().await {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    _ = until_shutdown(&mut shutdown) => return Ok(()),
                }
            }
            let request = self
                .bot
                .get_updates()
                .offset(offset)
                .timeout(poll_timeout(lease.remaining()))
                .allowed_updates(ALLOWED_UPDATES.to_vec());
            let updates = tokio::select! {
                result = request => result,
                _ = until_shutdown(&mut shutdown) => return Ok(()),
            };
            let updates = match updates {
                Ok(updates) => {
                    backoff = Duration::from_secs(1);
                    self.learn_username(inbox.as_ref()).await;
                    updates
                }
                Err(RequestError::Api(ApiError::InvalidToken)) => {
                    return Err(TelegramError::InvalidToken);
                }
                Err(err) if webhook_is_set(&err) => {
                    // Webhook mode ran before: Telegram keeps posting until the webhook goes.
                    tracing::info!(
                        "a Telegram webhook is set; deleting it to poll (telegram.mode is \"polling\")"
                    );
                    if let Err(err) = self.bot.delete_webhook().await {
                        tracing::warn!(error = %err, "deleteWebhook failed; polling again shortly");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = until_shutdown(&mut shutdown) => return Ok(()),
                        }
                    }
                    continue;
                }
                Err(err) => {
                    let wait = match &err {
                        RequestError::RetryAfter(seconds) => seconds.duration(),
                        _ => backoff,
                    };
                    tracing::warn!(error = %err, ?wait, "getUpdates failed; polling again shortly");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => continue,
                        _ = until_shutdown(&mut shutdown) => return Ok(()),
                    }
                }
            };
            for update in updates {
                if let Err(err) = self.take_update(&update, inbox.as_ref()).await {
                    // Not confirmed: Telegram will deliver it again on the next poll.
                    tracing::error!(error = %err, update_id = update.id.0, "update could not be handled; will retry");
                    tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
                    break;
                }
                offset = update.id.0 as i32 + 1;
            }
        }
    }

    /// Webhook mode, until shutdown:
    ///
    /// 1. `setWebhook` with `telegram.webhook_url`, the secret token and [`ALLOWED_UPDATES`],
    ///    pending updates kept, tried again with a growing pause until Telegram takes it;
    /// 2. the stored update with the lowest id that is not handled yet is read, parsed by
    ///    teloxide and taken like a polled one ([`Self::take_update`]), then marked handled;
    ///    one that teloxide cannot read is set aside (`encore deadletters`) and marked handled,
    ///    so it never holds up the ones behind it; one the inbox could not store stays
    ///    unhandled and is tried again after a pause;
    /// 3. with nothing left, [`wait_for_stored_updates`].
    ///
    /// A crash between 2's handling and marking takes the update again; the router's record of
    /// processed updates makes that harmless.
    async fn take_stored(
        mut self,
        inbox: Arc<dyn Inbox>,
        stored: StoredUpdates,
        lease: LeaseGuard,
        mut shutdown: Shutdown,
    ) -> Result<(), TelegramError> {
        if !self.set_webhook(inbox.as_ref(), &mut shutdown).await? {
            return Ok(());
        }
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // Handling an update may answer Telegram (a button press): only while leading.
            if !lease.may_send().await {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    _ = until_shutdown(&mut shutdown) => return Ok(()),
                }
            }
            let taken = match telegram_updates::next_unhandled(&stored.store).await {
                Ok(Some(next)) => self.take_one_stored(&next, inbox.as_ref(), &stored).await,
                Ok(None) => {
                    if !wait_for_stored_updates(&stored.bell, &mut shutdown).await {
                        return Ok(());
                    }
                    continue;
                }
                Err(err) => Err(err.to_string()),
            };
            if let Err(err) = taken {
                tracing::error!(error = %err, "a stored Telegram update could not be taken; will retry");
                tokio::select! {
                    _ = tokio::time::sleep(PAUSE_AFTER_FAILURE) => {}
                    _ = until_shutdown(&mut shutdown) => return Ok(()),
                }
            }
        }
    }

    /// Step 2 of [`Self::take_stored`] for one update. An error leaves it unhandled.
    async fn take_one_stored(
        &mut self,
        stored: &StoredUpdate,
        inbox: &dyn Inbox,
        StoredUpdates { store, clock, .. }: &StoredUpdates,
    ) -> Result<(), String> {
        let now = clock.now();
        match parse_update(&stored.body) {
            Ok(update) => {
                self.take_update(&update, inbox)
                    .await
                    .map_err(|err| err.to_string())?;
                let mut conn = store.conn().await.map_err(|err| err.to_string())?;
                telegram_updates::mark_handled(&mut conn, stored.update_id, now)
                    .await
                    .map_err(|err| err.to_string())
            }
            Err(why) => set_aside_unreadable(store, stored, &why, now)
                .await
                .map_err(|err| err.to_string()),
        }
    }

    /// `setWebhook` until Telegram takes it. False if shutdown came first; a refused token or
    /// URL is an error (waiting will not change Telegram's mind).
    async fn set_webhook(
        &mut self,
        inbox: &dyn Inbox,
        shutdown: &mut Shutdown,
    ) -> Result<bool, TelegramError> {
        let (url, secret_token) = match &self.intake {
            Intake::Webhook { url, secret_token } => (url.clone(), secret_token.clone()),
            Intake::Polling => return Ok(true),
        };
        let mut backoff = Duration::from_secs(1);
        loop {
            let request = self
                .bot
                .set_webhook(url.clone())
                .secret_token(secret_token.expose_secret())
                .allowed_updates(ALLOWED_UPDATES.to_vec())
                .drop_pending_updates(false);
            let set = tokio::select! {
                result = request => result,
                _ = until_shutdown(shutdown) => return Ok(false),
            };
            let wait = match set {
                Ok(_) => {
                    tracing::info!("Telegram posts updates to telegram.webhook_url");
                    self.learn_username(inbox).await;
                    return Ok(true);
                }
                Err(RequestError::Api(ApiError::InvalidToken)) => {
                    return Err(TelegramError::InvalidToken);
                }
                Err(RequestError::Api(err)) if is_bad_webhook(&err) => {
                    return Err(TelegramError::WebhookRefused(err.to_string()));
                }
                Err(RequestError::RetryAfter(seconds)) => seconds.duration(),
                Err(err) => {
                    tracing::warn!(error = %err, ?backoff, "setWebhook failed; trying again shortly");
                    backoff
                }
            };
            backoff = (backoff * 2).min(Duration::from_secs(30));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = until_shutdown(shutdown) => return Ok(false),
            }
        }
    }

    /// One update, the same whether it was polled or posted: made into an [`Incoming`] (the
    /// sender's admin rights looked up), handed to the inbox, and a button press answered.
    /// An error means the inbox stored nothing: the caller offers the update again.
    async fn take_update(&mut self, update: &Update, inbox: &dyn Inbox) -> Result<(), InboxError> {
        if let Some(mut incoming) = to_incoming(update, self.username.as_deref()) {
            self.look_up_admin(update, &mut incoming).await;
            inbox.handle(&incoming).await?;
        }
        if let UpdateKind::CallbackQuery(query) = &update.kind
            && let Err(err) = self.bot.answer_callback_query(query.id.clone()).await
        {
            tracing::warn!(error = %err, "answerCallbackQuery failed");
        }
        Ok(())
    }

    /// Telegram was unreachable at start: learn our name once it answers, for links and for
    /// telling our commands from other bots'.
    async fn learn_username(&mut self, inbox: &dyn Inbox) {
        if self.username.is_some() {
            return;
        }
        if let Ok(me) = self.bot.get_me().await {
            self.username = me.user.username.clone();
            if let Some(name) = &self.username {
                inbox.bot_username_known(Platform::Telegram, name);
            }
        }
    }
}

/// Waits until a stored update may be waiting: this process's `POST /telegram/webhook` rang
/// the bell, or [`STORED_UPDATES_LOOK_EVERY`] passed (another process may have stored one).
/// False on shutdown. The one place a wake shared by every process would go.
async fn wait_for_stored_updates(bell: &Notify, shutdown: &mut Shutdown) -> bool {
    tokio::select! {
        _ = bell.notified() => true,
        _ = tokio::time::sleep(STORED_UPDATES_LOOK_EVERY) => true,
        _ = until_shutdown(shutdown) => false,
    }
}

/// A stored update as teloxide reads it, or why it cannot. teloxide reads a kind it does not
/// know, or a known kind whose fields it cannot read, as `UpdateKind::Error`: that is unreadable
/// too.
fn parse_update(body: &str) -> Result<Update, String> {
    match serde_json::from_str::<Update>(body) {
        Ok(update) if matches!(update.kind, UpdateKind::Error(_)) => {
            Err("teloxide does not know this kind of update or cannot read its fields".to_string())
        }
        Ok(update) => Ok(update),
        Err(err) => Err(format!("not a Telegram update: {err}")),
    }
}

/// Sets an update teloxide cannot read aside, with its JSON as Telegram sent it, and marks it
/// handled, in one transaction.
async fn set_aside_unreadable(
    store: &Store,
    stored: &StoredUpdate,
    why: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let id = dead_letters::set_aside_update(
        &mut tx,
        Platform::Telegram.as_str(),
        &format!("update {} that teloxide could not read", stored.update_id),
        &stored.body,
        why,
        now,
    )
    .await?;
    telegram_updates::mark_handled(&mut tx, stored.update_id, now).await?;
    tx.commit().await?;
    tracing::error!(update_id = stored.update_id, dead_letter = %id, "a Telegram update could not be read and was set aside (encore deadletters)");
    Ok(())
}

/// `getUpdates` refused because a webhook is set (Telegram's words are longer than teloxide's).
fn webhook_is_set(err: &RequestError) -> bool {
    match err {
        RequestError::Api(ApiError::CantGetUpdates) => true,
        RequestError::Api(ApiError::Unknown(description)) => {
            description.contains("webhook is active")
        }
        _ => false,
    }
}

/// `setWebhook` refusals that no retry will change.
fn is_bad_webhook(err: &ApiError) -> bool {
    match err {
        ApiError::WebhookRequireHttps
        | ApiError::BadWebhookPort
        | ApiError::UnknownHost
        | ApiError::CantParseUrl => true,
        ApiError::Unknown(description) => description.contains("bad webhook"),
        _ => false,
    }
}

impl TelegramAdapter {
    /// Sets [`Incoming::from_admin`] of a group text or photo message whose sender administers
    /// the group, from a cached `getChatAdministrators` ([`to_incoming`] stays pure; the poller
    /// calls this on what it made). Other updates are left as they are.
    pub async fn look_up_admin(&mut self, update: &Update, incoming: &mut Incoming) {
        if incoming.from_admin || !asks_who_administers(update) {
            return;
        }
        if let (Ok(chat), Ok(user)) = (incoming.chat_id.parse(), incoming.user_id.parse()) {
            incoming.from_admin = self.is_admin(chat, user).await;
        }
    }

    /// Whether `user` administers group `chat`, from a list of its administrators asked for at
    /// most [`ADMINS_FRESH_FOR`] ago. When Telegram does not answer, nobody is.
    async fn is_admin(&mut self, chat: i64, user: u64) -> bool {
        let now = Instant::now();
        if let Some((asked, ids)) = self.admins.get(&chat)
            && now.duration_since(*asked) < ADMINS_FRESH_FOR
        {
            return ids.contains(&user);
        }
        match self.bot.get_chat_administrators(ChatId(chat)).await {
            Ok(admins) => {
                let ids: HashSet<u64> = admins.iter().map(|m| m.user.id.0).collect();
                let admin = ids.contains(&user);
                self.admins.insert(chat, (now, ids));
                admin
            }
            Err(err) => {
                tracing::debug!(error = %err, chat, "getChatAdministrators failed; treating the sender as no admin");
                // Not asked again for every message while Telegram refuses.
                let asked = now
                    .checked_sub(ADMINS_FRESH_FOR - ADMINS_RETRY_AFTER)
                    .unwrap_or(now);
                self.admins.insert(chat, (asked, HashSet::new()));
                false
            }
        }
    }
}

/// Whether the sender of this update may be an administrator worth looking up: a text or
/// photo message in a group or supergroup.
fn asks_who_administers(update: &Update) -> bool {
    matches!(&update.kind, UpdateKind::Message(message)
        if (message.chat.is_group() || message.chat.is_supergroup())
            && (message.text().is_some() || message.photo().is_some())
            && message.from.is_some())
}

/// How long one `getUpdates` may wait for news: [`POLL_TIMEOUT_SECONDS`], but a second short of
/// the lease's end (0: answer at once).
fn poll_timeout(lease_left: Duration) -> u32 {
    let seconds = lease_left.saturating_sub(Duration::from_secs(1)).as_secs();
    u32::try_from(seconds)
        .unwrap_or(u32::MAX)
        .min(POLL_TIMEOUT_SECONDS)
}

fn reqwest_url(api_url: &str) -> Result<url::Url, TelegramError> {
    url::Url::parse(api_url).map_err(|err| TelegramError::BadApiUrl(format!("{api_url}: {err}")))
}

/// Telegram's update → what the router needs. `None` for updates encore does not act on.
pub fn to_incoming(update: &Update, bot_username: Option<&str>) -> Option<Incoming> {
    let update_id = update.id.0.to_string();
    match &update.kind {
        UpdateKind::Message(message) => {
            if let Some(new_id) = message.migrate_to_chat_id() {
                return Some(Incoming {
                    platform: Platform::Telegram,
                    update_id,
                    chat_id: message.chat.id.0.to_string(),
                    chat_is_private: false,
                    user_id: String::new(),
                    user_name: None,
                    user_lang: None,
                    sent_as_chat: false,
                    from_admin: false,
                    message_id: None,
                    reply_to: None,
                    private_reply_to: None,
                    content: IncomingContent::ChatMoved {
                        to: new_id.0.to_string(),
                    },
                });
            }
            let from = message.from.as_ref();
            if let Some(users) = message.new_chat_members() {
                let members = members_of(users.iter());
                if members.is_empty() {
                    return None;
                }
                return Some(Incoming {
                    platform: Platform::Telegram,
                    update_id,
                    chat_id: message.chat.id.0.to_string(),
                    chat_is_private: false,
                    user_id: from.map(|u| u.id.0.to_string()).unwrap_or_default(),
                    user_name: from.map(|u| u.full_name()),
                    user_lang: from.and_then(|u| u.language_code.clone()),
                    sent_as_chat: false,
                    from_admin: false,
                    message_id: Some(message.id.0.to_string()),
                    reply_to: None,
                    private_reply_to: None,
                    content: IncomingContent::MembersJoined { members },
                });
            }
            let content = match (message.text(), message.photo()) {
                (Some(text), _) => IncomingContent::Text(addressed_to_us(text, bot_username)?),
                (None, Some(sizes)) => IncomingContent::Photo {
                    // Telegram lists sizes smallest first; staff want the largest.
                    file: sizes.last()?.file.id.0.clone(),
                    caption: message.caption().unwrap_or_default().to_string(),
                },
                (None, None) => return None,
            };
            let sent_as_chat = message
                .sender_chat
                .as_ref()
                .is_some_and(|c| c.id == message.chat.id);
            let chat_is_private = message.chat.is_private();
            Some(Incoming {
                platform: Platform::Telegram,
                update_id,
                chat_id: message.chat.id.0.to_string(),
                chat_is_private,
                user_id: from.map(|u| u.id.0.to_string()).unwrap_or_default(),
                user_name: from.map(|u| u.full_name()),
                user_lang: from.and_then(|u| u.language_code.clone()),
                sent_as_chat,
                // An anonymous admin is one by definition; other senders are looked up by the
                // poller (a cached `getChatAdministrators`), which keeps this function pure.
                from_admin: sent_as_chat && !chat_is_private,
                message_id: Some(message.id.0.to_string()),
                reply_to: message.reply_to_message().map(|m| m.id.0.to_string()),
                private_reply_to: None,
                content,
            })
        }
        UpdateKind::CallbackQuery(query) => {
            let data = query.data.clone()?;
            let chat = query.message.as_ref().map(|m| m.chat());
            Some(Incoming {
                platform: Platform::Telegram,
                update_id,
                chat_id: chat
                    .map(|c| c.id.0.to_string())
                    .unwrap_or_else(|| query.from.id.0.to_string()),
                chat_is_private: chat.is_none_or(|c| c.is_private()),
                user_id: query.from.id.0.to_string(),
                user_name: Some(query.from.full_name()),
                user_lang: query.from.language_code.clone(),
                sent_as_chat: false,
                from_admin: false,
                message_id: None,
                reply_to: None,
                private_reply_to: None,
                content: IncomingContent::Button { data },
            })
        }
        UpdateKind::ChatMember(change) => {
            let member = joined(change)?;
            Some(Incoming {
                platform: Platform::Telegram,
                update_id,
                chat_id: change.chat.id.0.to_string(),
                chat_is_private: false,
                user_id: change.from.id.0.to_string(),
                user_name: Some(change.from.full_name()),
                user_lang: change.from.language_code.clone(),
                sent_as_chat: false,
                from_admin: false,
                message_id: None,
                reply_to: None,
                private_reply_to: None,
                content: IncomingContent::MembersJoined {
                    members: vec![member],
                },
            })
        }
        UpdateKind::PollAnswer(answer) => {
            // Our polls are not anonymous: an answer on behalf of a chat is none of ours.
            let MaybeAnonymousUser::User(user) = &answer.voter else {
                return None;
            };
            Some(Incoming {
                platform: Platform::Telegram,
                update_id,
                chat_id: user.id.0.to_string(),
                chat_is_private: false,
                user_id: user.id.0.to_string(),
                user_name: Some(user.full_name()),
                user_lang: user.language_code.clone(),
                sent_as_chat: false,
                from_admin: false,
                message_id: None,
                reply_to: None,
                private_reply_to: None,
                content: IncomingContent::PollAnswer {
                    poll_id: answer.poll_id.0.clone(),
                    options: answer.option_ids.iter().map(|&o| u32::from(o)).collect(),
                },
            })
        }
        UpdateKind::ChatJoinRequest(request) => Some(Incoming {
            platform: Platform::Telegram,
            update_id,
            chat_id: request.chat.id.0.to_string(),
            chat_is_private: false,
            user_id: request.from.id.0.to_string(),
            user_name: Some(request.from.full_name()),
            user_lang: request.from.language_code.clone(),
            sent_as_chat: false,
            from_admin: false,
            message_id: None,
            reply_to: None,
            private_reply_to: None,
            content: IncomingContent::JoinRequest {
                invite_link: request.invite_link.as_ref().map(|l| l.invite_link.clone()),
            },
        }),
        _ => None,
    }
}

/// The person a `chat_member` update shows arriving: from not in the chat (left, kicked, or
/// restricted without being a member) to in it (member, administrator, creator, or restricted
/// as a member). Bots, and every other change (promotions, restrictions, leaving), are `None`.
fn joined(change: &ChatMemberUpdated) -> Option<Member> {
    let arrived =
        !change.old_chat_member.kind.is_present() && change.new_chat_member.kind.is_present();
    if !arrived {
        return None;
    }
    members_of(std::iter::once(&change.new_chat_member.user)).pop()
}

/// People who joined, bots left out.
fn members_of<'a>(users: impl Iterator<Item = &'a User>) -> Vec<Member> {
    users
        .filter(|u| !u.is_bot)
        .map(|u| Member {
            user_id: u.id.0.to_string(),
            name: u.full_name(),
            lang: u.language_code.clone(),
        })
        .collect()
}

/// `/cmd@encore_bot args` → `/cmd args`; `/cmd@other_bot` → not for us.
fn addressed_to_us(text: &str, bot_username: Option<&str>) -> Option<String> {
    if !text.starts_with('/') {
        return Some(text.to_string());
    }
    let (word, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(w, r)| (w, r));
    let Some((command, name)) = word.split_once('@') else {
        return Some(text.to_string());
    };
    match bot_username {
        Some(ours) if !ours.eq_ignore_ascii_case(name) => None,
        _ if rest.is_empty() => Some(command.to_string()),
        _ => Some(format!("{command} {rest}")),
    }
}

impl Messenger for TelegramSender {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn markup(&self) -> Markup {
        Markup::TelegramHtml
    }

    fn limits(&self) -> PlatformLimits {
        self.limits
    }

    fn is_group(&self, chat_id: &str) -> bool {
        chat_id.starts_with('-')
    }

    fn send_part<'a>(
        &'a self,
        chat_id: &'a str,
        part: &'a Part,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let chat: i64 = chat_id.parse().map_err(|_| {
                SendError::Permanent(format!("`{chat_id}` is not a Telegram chat id"))
            })?;
            let keyboard = (!part.buttons.is_empty()).then(|| {
                InlineKeyboardMarkup::new(part.buttons.iter().map(|row| {
                    row.iter()
                        .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
                        .collect::<Vec<_>>()
                }))
            });
            let reply_to = part
                .reply_to
                .as_deref()
                .and_then(|id| id.parse::<i32>().ok())
                .map(|id| ReplyParameters::new(MessageId(id)).allow_sending_without_reply());
            // A drawn picture is uploaded (multipart); a relayed photo is resent by its id.
            let photo = match (&part.attachment, &part.photo) {
                (Some(file), _) => {
                    Some(InputFile::memory(file.bytes.clone()).file_name(file.file_name.clone()))
                }
                (None, Some(file)) => Some(InputFile::file_id(FileId(file.clone()))),
                (None, None) => None,
            };
            // A poll goes as Telegram's own: non-anonymous, one answer, which can be changed.
            if let Some(poll) = &part.poll {
                let mut request = self
                    .bot
                    .send_poll(
                        ChatId(chat),
                        poll.question.clone(),
                        poll.options.iter().map(InputPollOption::new),
                    )
                    .is_anonymous(false)
                    .allows_multiple_answers(false);
                if self.paid_broadcast {
                    request = request.allow_paid_broadcast(true);
                }
                if let Some(reply_to) = reply_to {
                    request = request.reply_parameters(reply_to);
                }
                return match request.await {
                    Ok(message) => Ok(Delivered {
                        message_id: message.id.0.to_string(),
                        slow_down: None,
                        poll_id: message.poll().map(|p| p.id.0.clone()),
                    }),
                    Err(err) => Err(classify(err)),
                };
            }
            let sent = match photo {
                Some(photo) => {
                    let mut request = self.bot.send_photo(ChatId(chat), photo);
                    if !part.text.is_empty() {
                        request = request
                            .caption(part.text.clone())
                            .parse_mode(ParseMode::Html);
                    }
                    if self.paid_broadcast {
                        request = request.allow_paid_broadcast(true);
                    }
                    if let Some(keyboard) = keyboard {
                        request = request.reply_markup(keyboard);
                    }
                    if let Some(reply_to) = reply_to {
                        request = request.reply_parameters(reply_to);
                    }
                    request.await
                }
                None => {
                    let mut request = self
                        .bot
                        .send_message(ChatId(chat), &part.text)
                        .parse_mode(ParseMode::Html);
                    if self.paid_broadcast {
                        request = request.allow_paid_broadcast(true);
                    }
                    if let Some(keyboard) = keyboard {
                        request = request.reply_markup(keyboard);
                    }
                    if let Some(reply_to) = reply_to {
                        request = request.reply_parameters(reply_to);
                    }
                    request.await
                }
            };
            match sent {
                Ok(message) => Ok(Delivered {
                    message_id: message.id.0.to_string(),
                    slow_down: None,
                    poll_id: None,
                }),
                Err(err) => Err(classify(err)),
            }
        })
    }

    /// Every action but `GrantRole` (Discord's). A `Delete` of a message that is already gone
    /// is done (a retry after a lost answer must not fail), and so is a `ClosePoll` of a poll
    /// already stopped; `IsMember` of a user Telegram does not know in the chat is
    /// `Member(false)`.
    fn act<'a>(
        &'a self,
        chat_id: &'a str,
        action: &'a ChatAction,
    ) -> BoxFuture<'a, Result<ActionDone, SendError>> {
        Box::pin(async move {
            let chat = ChatId(chat_id.parse().map_err(|_| {
                SendError::Permanent(format!("`{chat_id}` is not a Telegram chat id"))
            })?);
            let done = |result: Result<_, RequestError>| {
                result.map(|_| ActionDone::Done).map_err(classify_action)
            };
            match action {
                ChatAction::Mute { user_id, until } => done(
                    self.bot
                        .restrict_chat_member(chat, user(user_id)?, ChatPermissions::empty())
                        .until_date(*until)
                        .await,
                ),
                ChatAction::Unmute { user_id } => done(
                    // All permissions is how Telegram lifts a member's restrictions: what is
                    // left is the group's default permissions.
                    self.bot
                        .restrict_chat_member(chat, user(user_id)?, ChatPermissions::all())
                        .await,
                ),
                ChatAction::Delete { message_id } => {
                    match self.bot.delete_message(chat, message(message_id)?).await {
                        Err(RequestError::Api(ApiError::MessageToDeleteNotFound)) => {
                            Ok(ActionDone::Done)
                        }
                        other => done(other),
                    }
                }
                ChatAction::Pin { message_id } => done(
                    self.bot
                        .pin_chat_message(chat, message(message_id)?)
                        .disable_notification(true)
                        .await,
                ),
                ChatAction::CreateJoinLink { name } => self
                    .bot
                    .create_chat_invite_link(chat)
                    .name(link_name(name))
                    .creates_join_request(true)
                    .await
                    .map(|link| ActionDone::Link(link.invite_link))
                    .map_err(classify_action),
                ChatAction::ApproveJoin { user_id } => done(
                    self.bot
                        .approve_chat_join_request(chat, user(user_id)?)
                        .await,
                ),
                ChatAction::DeclineJoin { user_id } => done(
                    self.bot
                        .decline_chat_join_request(chat, user(user_id)?)
                        .await,
                ),
                ChatAction::IsMember { user_id } => {
                    match self.bot.get_chat_member(chat, user(user_id)?).await {
                        Ok(member) => Ok(ActionDone::Member(member.kind.is_present())),
                        Err(err) if is_unknown_participant(&err) => Ok(ActionDone::Member(false)),
                        Err(err) => Err(classify_action(err)),
                    }
                }
                ChatAction::ClosePoll { message_id } => {
                    match self.bot.stop_poll(chat, message(message_id)?).await {
                        Err(RequestError::Api(ApiError::PollHasAlreadyClosed)) => {
                            Ok(ActionDone::Done)
                        }
                        other => other.map(|_| ActionDone::Done).map_err(classify_action),
                    }
                }
                ChatAction::GrantRole { .. } => Err(SendError::Permanent(
                    "Telegram has no roles to grant".to_string(),
                )),
            }
        })
    }
}

fn user(id: &str) -> Result<UserId, SendError> {
    id.parse()
        .map(UserId)
        .map_err(|_| SendError::Permanent(format!("`{id}` is not a Telegram user id")))
}

fn message(id: &str) -> Result<MessageId, SendError> {
    id.parse()
        .map(MessageId)
        .map_err(|_| SendError::Permanent(format!("`{id}` is not a Telegram message id")))
}

/// An invite link's name, cut to Telegram's 32 characters.
fn link_name(name: &str) -> String {
    name.chars().take(MAX_LINK_NAME_CHARS).collect()
}

/// `getChatMember` for someone Telegram does not know in the chat (never joined, or an id it
/// cannot resolve): not a member, not an error.
fn is_unknown_participant(err: &RequestError) -> bool {
    match err {
        RequestError::Api(ApiError::UserNotFound) => true,
        RequestError::Api(ApiError::Unknown(description)) => [
            "PARTICIPANT_ID_INVALID",
            "USER_ID_INVALID",
            "member not found",
            "user not found",
        ]
        .iter()
        .any(|s| description.contains(s)),
        _ => false,
    }
}

/// Like [`classify`], but a refusal of an action is never "the viewer blocked the bot": a 403
/// there means the bot is not in the group or lacks the right, which retrying will not fix.
fn classify_action(err: RequestError) -> SendError {
    let description = match &err {
        RequestError::Api(api) => api.to_string(),
        other => other.to_string(),
    };
    match classify(err) {
        SendError::Blocked => SendError::Permanent(description),
        other => other,
    }
}

/// teloxide's error → what the dispatcher does about it.
fn classify(err: RequestError) -> SendError {
    match err {
        RequestError::RetryAfter(seconds) => {
            SendError::RetryAfter(seconds.duration().max(Duration::from_secs(1)))
        }
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup,
        ) => SendError::Blocked,
        RequestError::Api(ApiError::Unknown(description)) if is_server_side(&description) => {
            SendError::Transient(description)
        }
        RequestError::Api(other) => SendError::Permanent(other.to_string()),
        RequestError::MigrateToChatId(id) => SendError::Moved(id.0.to_string()),
        RequestError::Network(err) => SendError::unanswered(&err),
        RequestError::InvalidJson { source, .. } => {
            SendError::Transient(format!("unreadable answer: {source}"))
        }
        RequestError::Io(err) => SendError::Transient(format!("i/o: {err}")),
    }
}

/// Telegram reports its own trouble (5xx) only in the description teloxide keeps.
fn is_server_side(description: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
        "Too Many Requests",
    ]
    .iter()
    .any(|s| description.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_for_other_bots_are_not_ours() {
        assert_eq!(
            addressed_to_us("/ended@encore_bot b-1", Some("encore_bot")),
            Some("/ended b-1".into())
        );
        assert_eq!(
            addressed_to_us("/ended@Encore_Bot", Some("encore_bot")),
            Some("/ended".into())
        );
        assert_eq!(
            addressed_to_us("/ended@other_bot b-1", Some("encore_bot")),
            None
        );
        assert_eq!(
            addressed_to_us("hello @someone", Some("encore_bot")),
            Some("hello @someone".into())
        );
    }

    #[test]
    fn a_refused_action_is_never_taken_for_a_blocked_viewer() {
        for err in [
            ApiError::BotKickedFromSupergroup,
            ApiError::BotBlocked,
            ApiError::BotKicked,
        ] {
            let description = err.to_string();
            assert_eq!(
                classify_action(RequestError::Api(err)),
                SendError::Permanent(description)
            );
        }
        assert_eq!(
            classify_action(RequestError::Api(ApiError::NotEnoughRightsToRestrict)),
            SendError::Permanent(ApiError::NotEnoughRightsToRestrict.to_string())
        );
        assert!(matches!(
            classify_action(RequestError::MigrateToChatId(ChatId(-100_123))),
            SendError::Moved(id) if id == "-100123"
        ));
    }

    #[test]
    fn unknown_participants_are_not_members_rather_than_errors() {
        for description in [
            "Bad Request: PARTICIPANT_ID_INVALID",
            "Bad Request: member not found",
        ] {
            assert!(is_unknown_participant(&RequestError::Api(
                ApiError::Unknown(description.to_string())
            )));
        }
        assert!(is_unknown_participant(&RequestError::Api(
            ApiError::UserNotFound
        )));
        assert!(!is_unknown_participant(&RequestError::Api(
            ApiError::ChatNotFound
        )));
    }

    #[test]
    fn invite_link_names_are_cut_to_32_characters_on_a_char_boundary() {
        let name = "VIP 김민지님의 초대 링크입니다 — 아주 길고 긴 이름이에요";
        let cut = link_name(name);
        assert_eq!(cut.chars().count(), 32);
        assert!(name.starts_with(&cut));
        assert_eq!(link_name("short"), "short");
    }

    #[test]
    fn a_long_poll_ends_a_second_before_the_lease_could_run_out() {
        assert_eq!(poll_timeout(Duration::from_secs(60)), POLL_TIMEOUT_SECONDS);
        assert_eq!(poll_timeout(Duration::from_millis(3_500)), 2);
        assert_eq!(poll_timeout(Duration::from_millis(900)), 0);
    }

    #[test]
    fn group_limits_allow_twenty_a_minute() {
        let limits = limits_from(&LimitsConfig {
            telegram_per_second: 30,
            telegram_per_chat_per_second: 1,
            telegram_per_group_per_minute: 20,
            discord_per_second: 50,
            discord_dm_opens_per_minute: 10,
        });
        assert_eq!(limits.per_group_interval, Duration::from_secs(3));
        assert_eq!(limits.per_chat_interval, Duration::from_secs(1));
    }
}
