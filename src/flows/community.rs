//! Community rooms: newcomers welcomed once (a burst of joins gets one welcome), the next live
//! announced (and pinned where the bot may pin), and moderation — a member who floods is muted
//! for a while with a short public notice and a note to staff; links from members who just
//! joined are removed. Staff and admins are never moderated.

use chrono::{DateTime, Duration, Utc};

use super::conversation::Conversation;
use crate::config::Config;
use crate::domain::keys::{BroadcastStage, IdemKey};
use crate::domain::moderation::{contains_link, is_new_member};
use crate::domain::{Flow, Lane, Platform};
use crate::outbox::{self, Envelope, Payload, Recipient, ReplyTo};
use crate::platforms::{ChatAction, Member};
use crate::store::{Conn, StoreResult, rooms};

/// A burst of joins is gathered into one welcome by waiting this long before the first.
const GATHER_JOINS: Duration = Duration::seconds(2);

/// A message to a room: it speaks to no one person, so it is transactional.
fn room_message(
    key: IdemKey,
    platform: Platform,
    chat_id: &str,
    flow: Flow,
    payload: Payload,
) -> Envelope {
    Envelope {
        key,
        to: Recipient::Chat {
            platform,
            chat_id: chat_id.to_string(),
        },
        flow,
        lane: Lane::Interactive,
        payload,
        broadcast_id: None,
        expires_at: None,
    }
}

/// Actions travel apart from the room's messages, so a mute does not wait behind welcomes.
fn room_action(key: IdemKey, platform: Platform, chat_id: &str, action: ChatAction) -> Envelope {
    Envelope {
        key,
        to: Recipient::Thread {
            platform,
            chat_id: chat_id.to_string(),
            thread: "actions".to_string(),
        },
        flow: Flow::Moderation,
        lane: Lane::Interactive,
        payload: Payload::Act { action },
        broadcast_id: None,
        expires_at: None,
    }
}

/// Discord times out a member of the guild, not of a channel; Telegram restricts them in the
/// group.
fn where_members_are_muted(config: &Config, platform: Platform, room: &str) -> String {
    match platform {
        Platform::Discord => config
            .discord
            .as_ref()
            .and_then(|d| d.guild_id)
            .map(|g| g.to_string())
            .unwrap_or_else(|| room.to_string()),
        _ => room.to_string(),
    }
}

/// People joined a community room: each is recorded once, and a welcome is queued unless one
/// that will name them is already waiting.
pub async fn members_joined(
    conn: &mut Conn,
    platform: Platform,
    room: &str,
    members: &[Member],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut first_new = None;
    for member in members {
        let new = rooms::member_joined(
            conn,
            platform.as_str(),
            room,
            &member.user_id,
            &member.name,
            member.lang.as_deref(),
            now,
        )
        .await?;
        if new && first_new.is_none() {
            first_new = Some(member.user_id.clone());
        }
    }
    let Some(first) = first_new else {
        return Ok(());
    };
    let recipient = format!("chat:{platform}:{room}");
    if crate::store::outbox::has_waiting(conn, &recipient, Flow::Welcome.as_str()).await? {
        return Ok(());
    }
    let welcome = room_message(
        IdemKey::Welcome {
            platform,
            room: room.to_string(),
            first_member: first,
        },
        platform,
        room,
        Flow::Welcome,
        Payload::Welcome,
    );
    let welcome = Envelope {
        lane: Lane::Bulk,
        ..welcome
    };
    outbox::enqueue_at(conn, welcome, now, now + GATHER_JOINS).await?;
    Ok(())
}

/// The room a Discord guild's joins are welcomed in: the first community channel.
pub fn welcome_room(config: &Config, platform: Platform, chat_id: &str) -> Option<String> {
    match platform {
        Platform::Discord => {
            let discord = config.discord.as_ref()?;
            if discord.guild_id.map(|g| g.to_string()).as_deref() == Some(chat_id) {
                return discord.community_channel_ids.first().map(|c| c.to_string());
            }
            None
        }
        _ => None,
    }
}

/// `broadcast.scheduled` / `broadcast.started`: an announcement in every community room, once
/// per broadcast and room whatever the event id; the scheduled one is pinned where the bot may.
pub async fn announce_broadcast(
    ctx_rooms: &[(Platform, String)],
    conn: &mut Conn,
    stage: AnnouncementStage<'_>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if expires_at <= now {
        return Ok(());
    }
    for (platform, room) in ctx_rooms {
        let (stage_of_key, broadcast_id, payload) = match &stage {
            AnnouncementStage::Scheduled {
                broadcast_id,
                title,
                starts_at,
                url,
            } => (
                BroadcastStage::Scheduled,
                broadcast_id.to_string(),
                Payload::text("room-broadcast-scheduled")
                    .arg("title", title.to_string())
                    .arg("starts", starts_at.to_string())
                    .arg("url", url.unwrap_or_default().to_string()),
            ),
            AnnouncementStage::Started {
                broadcast_id,
                title,
                url,
            } => (
                BroadcastStage::Started,
                broadcast_id.to_string(),
                Payload::text("room-broadcast-started")
                    .arg("title", title.to_string())
                    .arg("url", url.unwrap_or_default().to_string()),
            ),
        };
        let key = IdemKey::Announcement {
            stage: stage_of_key,
            broadcast_id: broadcast_id.clone(),
            platform: *platform,
            room: room.clone(),
        };
        let announcement = room_message(key.clone(), *platform, room, Flow::Announcement, payload);
        // "Live tomorrow at 8" is not posted at 9.
        let announcement = Envelope {
            lane: Lane::Bulk,
            expires_at: Some(expires_at),
            ..announcement
        };
        let new = outbox::enqueue(conn, announcement, now).await?;
        if new && matches!(stage, AnnouncementStage::Scheduled { .. }) {
            // After the announcement: messages to one chat keep their order.
            let pin = room_message(
                IdemKey::AnnouncementPin {
                    stage: stage_of_key,
                    broadcast_id,
                    platform: *platform,
                    room: room.clone(),
                },
                *platform,
                room,
                Flow::Announcement,
                Payload::Pin {
                    key: key.to_string(),
                },
            );
            outbox::enqueue(
                conn,
                Envelope {
                    lane: Lane::Bulk,
                    ..pin
                },
                now,
            )
            .await?;
        }
    }
    Ok(())
}

pub enum AnnouncementStage<'a> {
    Scheduled {
        broadcast_id: &'a str,
        title: &'a str,
        /// As the room reads it, in shop time.
        starts_at: &'a str,
        url: Option<&'a str>,
    },
    Started {
        broadcast_id: &'a str,
        title: &'a str,
        url: Option<&'a str>,
    },
}

/// A member's message in a community room. Returns true when moderation acted on it (the
/// message is not answered then).
pub async fn moderate(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    text: &str,
) -> StoreResult<bool> {
    let ctx = conv.ctx;
    let incoming = conv.incoming;
    if incoming.from_admin || incoming.sent_as_chat || ctx.roles.is_staff_member(incoming) {
        return Ok(false);
    }
    let platform = incoming.platform;
    let room = incoming.chat_id.as_str();
    let user = incoming.user_id.as_str();
    let now = conv.now;
    if rooms::is_muted(conn, platform.as_str(), room, user, now).await? {
        // Already muted: what was on its way is removed quietly.
        if let Some(message_id) = &incoming.message_id {
            let delete = ChatAction::Delete {
                message_id: message_id.clone(),
            };
            let key = IdemKey::Delete {
                platform,
                room: room.to_string(),
                message_id: message_id.clone(),
            };
            outbox::enqueue(conn, room_action(key, platform, room, delete), now).await?;
        }
        return Ok(true);
    }
    let name = incoming
        .user_name
        .clone()
        .unwrap_or_else(|| user.to_string());
    let flood_key = format!("{platform}:{room}:{user}");
    if !ctx.flood.allow(&flood_key) {
        let minutes = ctx.config.moderation.mute_minutes;
        let until = now + Duration::minutes(i64::from(minutes));
        let mute_id = rooms::record_mute(conn, platform.as_str(), room, user, until, now).await?;
        let mute_in = where_members_are_muted(&ctx.config, platform, room);
        let mute = ChatAction::Mute {
            user_id: user.to_string(),
            until,
        };
        outbox::enqueue(
            conn,
            room_action(IdemKey::Mute { mute_id }, platform, &mute_in, mute),
            now,
        )
        .await?;
        let notice = Payload::text("room-muted-notice")
            .arg("name", name.clone())
            .arg("minutes", i64::from(minutes))
            .in_lang(ctx.config.shop.default_locale);
        let notice = match &incoming.message_id {
            Some(id) => notice.replying_to(ReplyTo::Message(id.clone())),
            None => notice,
        };
        outbox::enqueue(
            conn,
            room_message(
                IdemKey::MuteNotice { mute_id },
                platform,
                room,
                Flow::Moderation,
                notice,
            ),
            now,
        )
        .await?;
        if let Some((staff_platform, staff_chat)) = ctx.roles.staff_chat_for(platform) {
            let note = Payload::text("staff-member-muted")
                .arg("name", name)
                .arg("user", user.to_string())
                .arg("platform", platform.to_string())
                .arg("minutes", i64::from(minutes))
                .in_lang(ctx.config.shop.default_locale);
            let note = room_message(
                IdemKey::MuteStaff { mute_id },
                staff_platform,
                &staff_chat,
                Flow::Moderation,
                note,
            );
            outbox::enqueue(
                conn,
                Envelope {
                    lane: Lane::Staff,
                    ..note
                },
                now,
            )
            .await?;
        }
        tracing::info!(%platform, mute_id, minutes, "a member flooding a community room was muted");
        return Ok(true);
    }
    if contains_link(text) {
        let joined = rooms::joined_at(conn, platform.as_str(), user).await?;
        if is_new_member(joined, now, ctx.config.moderation.new_member_link_minutes)
            && let Some(message_id) = &incoming.message_id
        {
            let delete = ChatAction::Delete {
                message_id: message_id.clone(),
            };
            let key = IdemKey::Delete {
                platform,
                room: room.to_string(),
                message_id: message_id.clone(),
            };
            outbox::enqueue(conn, room_action(key, platform, room, delete), now).await?;
            let notice = Payload::text("room-link-removed")
                .arg("name", name)
                .arg(
                    "minutes",
                    i64::from(ctx.config.moderation.new_member_link_minutes),
                )
                .in_lang(ctx.config.shop.default_locale);
            outbox::enqueue(
                conn,
                room_message(
                    IdemKey::LinkNotice {
                        platform,
                        user_id: user.to_string(),
                        room: room.to_string(),
                        message_id: message_id.clone(),
                    },
                    platform,
                    room,
                    Flow::Moderation,
                    notice,
                ),
                now,
            )
            .await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Staff `/unmute USER`: lifts the member's mutes on every platform.
pub async fn unmute(conv: &mut Conversation<'_>, conn: &mut Conn, user: &str) -> StoreResult<()> {
    let user = user.trim().trim_start_matches('@');
    if user.is_empty() {
        return conv
            .reply_to_staff(conn, Payload::text("staff-usage-unmute"))
            .await;
    }
    let now = conv.now;
    let mut lifted = 0;
    for platform in [Platform::Telegram, Platform::Discord] {
        for (mute_id, chat) in rooms::lift_mutes(conn, platform.as_str(), user, now).await? {
            let unmute_in = where_members_are_muted(&conv.ctx.config, platform, &chat);
            let action = ChatAction::Unmute {
                user_id: user.to_string(),
            };
            outbox::enqueue(
                conn,
                room_action(IdemKey::Unmute { mute_id }, platform, &unmute_in, action),
                now,
            )
            .await?;
            lifted += 1;
        }
    }
    let answer = if lifted > 0 {
        Payload::text("staff-unmuted").arg("user", user.to_string())
    } else {
        Payload::text("staff-not-muted").arg("user", user.to_string())
    };
    conv.reply_to_staff(conn, answer).await
}
