//! Telegram, through teloxide: long polling for updates, `sendMessage` with HTML for sends.
//! The only module that knows teloxide. It turns updates into [`Incoming`] for the router and
//! teloxide's errors into [`SendError`]; it decides nothing.

use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::ExposeSecret;
use teloxide::payloads::{GetUpdatesSetters, SendMessageSetters, SendPhotoSetters};
use teloxide::requests::Requester;
use teloxide::types::{
    AllowedUpdate, ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    MessageId, ParseMode, ReplyParameters, Update, UpdateKind,
};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::watch;

use super::{Delivered, Incoming, IncomingContent, Messenger, Part, PlatformLimits, SendError};
use crate::app::AppContext;
use crate::config::{LimitsConfig, TelegramConfig};
use crate::domain::Platform;
use crate::i18n::Markup;

/// How long one `getUpdates` call waits for news (long polling).
const POLL_TIMEOUT_SECONDS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("`telegram.api_url` is not a URL: {0}")]
    BadApiUrl(String),
    #[error("Telegram refused the bot token (check `telegram.token` / ENCORE_TELEGRAM_TOKEN)")]
    InvalidToken,
}

pub struct TelegramAdapter {
    bot: Bot,
    username: Option<String>,
    limits: PlatformLimits,
}

/// The sending half, handed to the dispatcher.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    limits: PlatformLimits,
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
        })
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn sender(&self) -> TelegramSender {
        TelegramSender {
            bot: self.bot.clone(),
            limits: self.limits,
        }
    }

    /// Long-polls until shutdown. An update is confirmed (by the next offset) only after the
    /// router has stored its effects; a crash in between re-delivers it, and the router's record
    /// of processed updates makes the re-delivery harmless.
    pub async fn poll(
        mut self,
        ctx: AppContext,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), TelegramError> {
        let mut offset: i32 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            let request = self
                .bot
                .get_updates()
                .offset(offset)
                .timeout(POLL_TIMEOUT_SECONDS)
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            let updates = tokio::select! {
                result = request => result,
                _ = crate::app::until_shutdown(&mut shutdown) => return Ok(()),
            };
            let updates = match updates {
                Ok(updates) => {
                    backoff = Duration::from_secs(1);
                    if self.username.is_none() {
                        // Telegram was unreachable at start: learn our name now, for links and
                        // for telling our commands from other bots'.
                        if let Ok(me) = self.bot.get_me().await {
                            self.username = me.user.username.clone();
                            if let Some(name) = &self.username {
                                let _ = ctx.telegram_username.set(name.clone());
                            }
                        }
                    }
                    updates
                }
                Err(RequestError::Api(ApiError::InvalidToken)) => {
                    return Err(TelegramError::InvalidToken);
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
                        _ = crate::app::until_shutdown(&mut shutdown) => return Ok(()),
                    }
                }
            };
            for update in updates {
                let incoming = to_incoming(&update, self.username.as_deref());
                if let Some(incoming) = &incoming
                    && let Err(err) = crate::router::handle(&ctx, incoming).await
                {
                    // Not confirmed: Telegram will deliver it again on the next poll.
                    tracing::error!(error = %err, update_id = update.id.0, "update could not be handled; will retry");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
                offset = update.id.0 as i32 + 1;
                if let UpdateKind::CallbackQuery(query) = &update.kind
                    && let Err(err) = self.bot.answer_callback_query(query.id.clone()).await
                {
                    tracing::warn!(error = %err, "answerCallbackQuery failed");
                }
            }
        }
    }
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
                    content: IncomingContent::ChatMoved {
                        to: new_id.0.to_string(),
                    },
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
            let from = message.from.as_ref();
            let sent_as_chat = message
                .sender_chat
                .as_ref()
                .is_some_and(|c| c.id == message.chat.id);
            Some(Incoming {
                platform: Platform::Telegram,
                update_id,
                chat_id: message.chat.id.0.to_string(),
                chat_is_private: message.chat.is_private(),
                user_id: from.map(|u| u.id.0.to_string()).unwrap_or_default(),
                user_name: from.map(|u| u.full_name()),
                user_lang: from.and_then(|u| u.language_code.clone()),
                sent_as_chat,
                from_admin: false,
                message_id: Some(message.id.0.to_string()),
                reply_to: message.reply_to_message().map(|m| m.id.0.to_string()),
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
                content: IncomingContent::Button { data },
            })
        }
        _ => None,
    }
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
            let sent = match &part.photo {
                Some(file) => {
                    let mut request = self
                        .bot
                        .send_photo(ChatId(chat), InputFile::file_id(FileId(file.clone())))
                        .caption(part.text.clone())
                        .parse_mode(ParseMode::Html);
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
                }),
                Err(err) => Err(classify(err)),
            }
        })
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
        RequestError::Network(err) => SendError::Transient(format!("network: {err}")),
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
