//! The VIP room's door, opened when a message about it is sent — on the platform the message
//! goes out on, which is only known then.
//!
//! Telegram: each VIP gets their own join-request link (made once, remembered); a request
//! through it is approved only from that customer's linked account (flows::vip). Discord: a
//! viewer who shares the guild gets the VIP role at once; one who does not gets a one-use guild
//! invite first, and the role when they join.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::Platform;
use crate::platforms::{ActionDone, ChatAction, Messenger, SendError};
use crate::store::{Store, StoreError, vip};

/// The configured VIP room of each platform.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VipRooms {
    pub telegram_chat: Option<String>,
    pub discord_guild: Option<String>,
    pub discord_role: Option<String>,
    pub discord_channel: Option<String>,
    /// Where a guild invite is made: the first community channel, else the VIP channel.
    pub discord_invite_channel: Option<String>,
}

impl VipRooms {
    pub fn from_config(config: &Config) -> VipRooms {
        let telegram_chat = config
            .telegram
            .as_ref()
            .and_then(|t| t.vip_chat_id)
            .map(|id| id.to_string());
        let discord = config.discord.as_ref();
        VipRooms {
            telegram_chat,
            discord_guild: discord.and_then(|d| d.guild_id).map(|id| id.to_string()),
            discord_role: discord.and_then(|d| d.vip_role_id).map(|id| id.to_string()),
            discord_channel: discord
                .and_then(|d| d.vip_channel_id)
                .map(|id| id.to_string()),
            discord_invite_channel: discord
                .and_then(|d| {
                    d.community_channel_ids
                        .first()
                        .copied()
                        .or(d.vip_channel_id)
                })
                .map(|id| id.to_string()),
        }
    }
}

/// How the viewer gets into the VIP room.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomAccess {
    /// A link to follow (a personal join-request link, or a guild invite).
    Link(String),
    /// Already let in (Discord: the role is granted); the room's mention.
    Granted(String),
    /// No VIP room on this platform.
    NoRoom,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Platform(#[from] SendError),
}

/// Opens (or finds) the way into the VIP room for `customer_id`, whose account on this
/// messenger is `user_id`.
pub async fn vip_room_access(
    store: &Store,
    rooms: &VipRooms,
    messenger: &dyn Messenger,
    customer_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<RoomAccess, AccessError> {
    let platform = messenger.platform();
    let mut conn = store.conn().await?;
    let known = vip::vip_access(&mut conn, customer_id, platform.as_str()).await?;
    drop(conn);
    match platform {
        Platform::Telegram => {
            let Some(chat) = &rooms.telegram_chat else {
                return Ok(RoomAccess::NoRoom);
            };
            if let Some(link) = known.and_then(|k| k.invite_link) {
                return Ok(RoomAccess::Link(link));
            }
            let name = ChatAction::CreateJoinLink {
                name: format!("VIP {customer_id}"),
            };
            make_link(store, messenger, chat, &name, customer_id, now).await
        }
        Platform::Discord => {
            let (Some(guild), Some(role)) = (&rooms.discord_guild, &rooms.discord_role) else {
                return Ok(RoomAccess::NoRoom);
            };
            let room = rooms
                .discord_channel
                .as_ref()
                .map(|c| format!("<#{c}>"))
                .unwrap_or_default();
            let member = messenger
                .act(
                    guild,
                    &ChatAction::IsMember {
                        user_id: user_id.to_string(),
                    },
                )
                .await?;
            if member == ActionDone::Member(true) {
                messenger
                    .act(
                        guild,
                        &ChatAction::GrantRole {
                            user_id: user_id.to_string(),
                            role_id: role.clone(),
                        },
                    )
                    .await?;
                let mut conn = store.conn().await?;
                vip::record_invite(&mut conn, customer_id, platform.as_str(), None, true, now)
                    .await?;
                return Ok(RoomAccess::Granted(room));
            }
            if let Some(link) = known.and_then(|k| k.invite_link) {
                return Ok(RoomAccess::Link(link));
            }
            let Some(channel) = &rooms.discord_invite_channel else {
                return Ok(RoomAccess::NoRoom);
            };
            let name = ChatAction::CreateJoinLink {
                name: format!("VIP {customer_id}"),
            };
            make_link(store, messenger, channel, &name, customer_id, now).await
        }
        Platform::Emulator | Platform::Kakao => Ok(RoomAccess::NoRoom),
    }
}

/// Makes the customer's one link and remembers it.
async fn make_link(
    store: &Store,
    messenger: &dyn Messenger,
    chat: &str,
    action: &ChatAction,
    customer_id: &str,
    now: DateTime<Utc>,
) -> Result<RoomAccess, AccessError> {
    let ActionDone::Link(link) = messenger.act(chat, action).await? else {
        return Err(SendError::Permanent("no invite link came back".into()).into());
    };
    let mut conn = store.conn().await?;
    vip::record_invite(
        &mut conn,
        customer_id,
        messenger.platform().as_str(),
        Some(&link),
        false,
        now,
    )
    .await?;
    Ok(RoomAccess::Link(link))
}

/// Whether the customer is in the VIP room on this messenger already (a `/vippost` DM goes only
/// to VIPs who are not).
pub async fn in_vip_room(
    store: &Store,
    rooms: &VipRooms,
    messenger: &dyn Messenger,
    customer_id: &str,
    user_id: &str,
) -> Result<bool, AccessError> {
    match messenger.platform() {
        Platform::Telegram => {
            let Some(chat) = &rooms.telegram_chat else {
                return Ok(false);
            };
            let member = messenger
                .act(
                    chat,
                    &ChatAction::IsMember {
                        user_id: user_id.to_string(),
                    },
                )
                .await?;
            Ok(member == ActionDone::Member(true))
        }
        Platform::Discord => {
            // The VIP channel is visible to the role: granted means in the room.
            let mut conn = store.conn().await?;
            Ok(vip::vip_access(&mut conn, customer_id, "discord")
                .await?
                .is_some_and(|a| a.granted_at.is_some()))
        }
        Platform::Emulator | Platform::Kakao => Ok(false),
    }
}
