//! The chat actions and the join updates of both adapters, driven through the real adapter code
//! (teloxide and reqwest/serenity) against the platform stand-ins.

use std::time::Duration;

use crate::support::app::{DISCORD_ONLY, TestApp, config_for};
use crate::support::discord::{
    self as dc_support, BOT_ROLE_ID, COMMUNITY_CHANNEL_ID, DcUser, FakeDiscord, GUILD_ID, OWNER_ID,
    VIP_ROLE_ID,
};
use crate::support::telegram::{self as tg_support, FakeTelegram, MemberStatus, TgUser};
use chrono::Utc;
use encore::platforms::discord::{DiscordAdapter, DiscordSender, member_joined};
use encore::platforms::telegram::{ALLOWED_UPDATES, TelegramAdapter, TelegramSender, to_incoming};
use encore::platforms::{
    ActionDone, ChatAction, Incoming, IncomingContent, Member, Messenger, Part, SendError,
};
use teloxide::prelude::*;

/// A supergroup (a community room) and the VIP room.
const ROOM: i64 = -1_000_000_000_321;
const VIP: i64 = -1_000_000_000_654;

fn config(tg: Option<&FakeTelegram>, dc: Option<&FakeDiscord>) -> encore::config::Config {
    config_for(
        tg.map(|t| t.api_url()).as_deref(),
        dc.map(|d| d.api_url()).as_deref(),
        "sqlite::memory:",
    )
}

async fn tg_adapter(tg: &FakeTelegram) -> TelegramAdapter {
    let config = config(Some(tg), None);
    TelegramAdapter::connect(config.telegram.as_ref().unwrap(), &config.limits)
        .await
        .expect("adapter")
}

async fn tg_sender(tg: &FakeTelegram) -> TelegramSender {
    tg_adapter(tg).await.sender()
}

fn dc_sender(dc: &FakeDiscord) -> DiscordSender {
    let config = config(None, Some(dc));
    DiscordAdapter::new(config.discord.as_ref().unwrap(), &config.limits).sender()
}

fn minji() -> TgUser {
    TgUser::new(701, "Minji").with_language("ko")
}

fn mute(user: &str) -> ChatAction {
    ChatAction::Mute {
        user_id: user.into(),
        until: Utc::now() + chrono::Duration::hours(1),
    }
}

fn is_member(user: impl ToString) -> ChatAction {
    ChatAction::IsMember {
        user_id: user.to_string(),
    }
}

fn permanent(result: Result<ActionDone, SendError>) -> String {
    match result {
        Err(SendError::Permanent(why)) => why,
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
}

/// Every pending update, fetched the way the poller asks for them.
async fn updates(tg: &FakeTelegram) -> Vec<Update> {
    let bot = Bot::new(tg_support::TOKEN).set_api_url(tg.api_url().parse().unwrap());
    bot.get_updates()
        .allowed_updates(ALLOWED_UPDATES.to_vec())
        .timeout(0)
        .await
        .expect("getUpdates")
}

// ----------------------------------------------------------------------------------------------
// Telegram
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn telegram_mute_takes_every_right_until_the_time_and_unmute_gives_them_back() {
    let tg = FakeTelegram::start().await;
    let sender = tg_sender(&tg).await;
    let room = ROOM.to_string();
    tg.push_group_text(ROOM, "Room", &minji(), "spam", None);

    let until = Utc::now() + chrono::Duration::hours(1);
    let action = ChatAction::Mute {
        user_id: "701".into(),
        until,
    };
    assert_eq!(sender.act(&room, &action).await, Ok(ActionDone::Done));
    let restriction = tg.restrictions().pop().expect("restrictChatMember");
    assert_eq!((restriction.chat_id, restriction.user_id), (ROOM, 701));
    assert_eq!(restriction.until_date, Some(until.timestamp()));
    assert!(!restriction.can_send_messages());
    assert!(
        restriction
            .permissions
            .as_object()
            .unwrap()
            .values()
            .all(|v| !v.as_bool().unwrap_or(false)),
        "{}",
        restriction.permissions
    );
    // Muted is still a member.
    assert_eq!(
        sender.act(&room, &is_member(701)).await,
        Ok(ActionDone::Member(true))
    );

    let unmute = ChatAction::Unmute {
        user_id: "701".into(),
    };
    assert_eq!(sender.act(&room, &unmute).await, Ok(ActionDone::Done));
    let lifted = tg.restrictions().pop().unwrap();
    assert!(lifted.can_send_messages());
    assert_eq!(tg.restrictions().len(), 2);
    let bot = Bot::new(tg_support::TOKEN).set_api_url(tg.api_url().parse().unwrap());
    let member = bot
        .get_chat_member(ChatId(ROOM), UserId(701))
        .await
        .unwrap();
    assert!(member.is_member(), "restrictions lifted: {:?}", member.kind);
}

#[tokio::test]
async fn telegram_is_member_counts_members_admins_and_restricted_members_only() {
    let tg = FakeTelegram::start().await;
    let sender = tg_sender(&tg).await;
    let room = ROOM.to_string();
    for (user, status, expected) in [
        (801, MemberStatus::Creator, true),
        (802, MemberStatus::Administrator, true),
        (803, MemberStatus::Member, true),
        (804, MemberStatus::Left, false),
        (805, MemberStatus::Kicked, false),
    ] {
        tg.set_chat_member_status(ROOM, user, status);
        assert_eq!(
            sender.act(&room, &is_member(user)).await,
            Ok(ActionDone::Member(expected)),
            "{status:?}"
        );
    }
    // Seen elsewhere (status `left` here), and never seen at all (400 `user not found`).
    tg.push_private_text(&TgUser::new(806, "Elsewhere"), "hi");
    assert_eq!(
        sender.act(&room, &is_member(806)).await,
        Ok(ActionDone::Member(false))
    );
    assert_eq!(
        sender.act(&room, &is_member(807)).await,
        Ok(ActionDone::Member(false))
    );
    // A join makes a member.
    tg.push_chat_member_joined(ROOM, "Room", &TgUser::new(808, "Joined"));
    assert_eq!(
        sender.act(&room, &is_member(808)).await,
        Ok(ActionDone::Member(true))
    );
}

#[tokio::test]
async fn telegram_delete_and_pin_name_the_message_and_pin_silently() {
    let tg = FakeTelegram::start().await;
    let sender = tg_sender(&tg).await;
    let room = ROOM.to_string();
    let spam = tg.push_group_text(ROOM, "Room", &minji(), "spam", None);

    let delete = ChatAction::Delete {
        message_id: spam.to_string(),
    };
    assert_eq!(sender.act(&room, &delete).await, Ok(ActionDone::Done));
    assert_eq!(tg.deleted_messages(), vec![(ROOM, spam)]);
    // Already gone (a retry after a lost answer): done, nothing more deleted.
    assert_eq!(sender.act(&room, &delete).await, Ok(ActionDone::Done));
    assert_eq!(tg.deleted_messages().len(), 1);

    let rules = sender
        .send_part(
            &room,
            &Part {
                text: "Rules".into(),
                ..Part::default()
            },
        )
        .await
        .expect("sent");
    let pin = ChatAction::Pin {
        message_id: rules.message_id.clone(),
    };
    assert_eq!(sender.act(&room, &pin).await, Ok(ActionDone::Done));
    let pins = tg.pins();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        pins[0].message_id.map(|m| m.to_string()),
        Some(rules.message_id)
    );
    assert!(pins[0].pinned && pins[0].disable_notification);
    assert_eq!(tg.pinned_in(ROOM).len(), 1);
}

#[tokio::test]
async fn telegram_join_links_ask_for_approval_and_requests_are_approved_or_declined() {
    let tg = FakeTelegram::start().await;
    let sender = tg_sender(&tg).await;
    let vip = VIP.to_string();
    let name = "VIP 김민지님 전용 초대 링크 — 다른 분께는 주지 마세요";
    assert!(name.chars().count() > 32);

    let link = match sender
        .act(&vip, &ChatAction::CreateJoinLink { name: name.into() })
        .await
    {
        Ok(ActionDone::Link(link)) => link,
        other => panic!("expected a link, got {other:?}"),
    };
    let created = tg.invite_links();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].invite_link, link);
    assert_eq!(created[0].chat_id, VIP);
    assert!(created[0].creates_join_request);
    let sent_name = created[0].name.clone().unwrap();
    assert_eq!(sent_name.chars().count(), 32);
    assert!(name.starts_with(&sent_name));

    tg.push_join_request(VIP, "VIP", &minji(), &link);
    tg.push_join_request(VIP, "VIP", &TgUser::new(702, "Stranger"), &link);
    let approve = ChatAction::ApproveJoin {
        user_id: "701".into(),
    };
    assert_eq!(sender.act(&vip, &approve).await, Ok(ActionDone::Done));
    let decline = ChatAction::DeclineJoin {
        user_id: "702".into(),
    };
    assert_eq!(sender.act(&vip, &decline).await, Ok(ActionDone::Done));
    assert_eq!(
        tg.join_request_decisions(),
        vec![(VIP, 701, true), (VIP, 702, false)]
    );
    assert_eq!(
        sender.act(&vip, &is_member(701)).await,
        Ok(ActionDone::Member(true))
    );
    // No open request any more.
    let why = permanent(sender.act(&vip, &approve).await);
    assert!(why.contains("HIDE_REQUESTER_MISSING"), "{why}");
}

#[tokio::test]
async fn telegram_refusals_are_permanent_and_a_moved_group_is_followed() {
    let tg = FakeTelegram::start().await;
    let sender = tg_sender(&tg).await;
    let room = ROOM.to_string();

    let grant = ChatAction::GrantRole {
        user_id: "701".into(),
        role_id: "1".into(),
    };
    permanent(sender.act(&room, &grant).await);
    permanent(sender.act("not-a-chat", &mute("701")).await);
    permanent(sender.act(&room, &mute("seven")).await);

    // Without admin rights: Telegram's description, final.
    tg.push_group_text(ROOM, "Room", &minji(), "hi", None);
    tg.set_chat_member_status(ROOM, tg.bot_user_id(), MemberStatus::Member);
    let why = permanent(sender.act(&room, &mute("701")).await);
    assert!(why.contains("not enough rights"), "{why}");
    let why = permanent(
        sender
            .act(&room, &ChatAction::CreateJoinLink { name: "x".into() })
            .await,
    );
    assert!(why.contains("not enough rights"), "{why}");

    let old = -4567;
    let new = -1_000_000_004_567;
    tg.push_group_migrated(old, new);
    assert_eq!(
        sender.act(&old.to_string(), &is_member(701)).await,
        Err(SendError::Moved(new.to_string()))
    );
}

#[tokio::test]
async fn telegram_joins_and_join_requests_become_incoming_and_bots_are_left_out() {
    let tg = FakeTelegram::start().await;
    let jisoo = TgUser::new(703, "Jisoo").with_language("en");
    let helper = TgUser::new(9001, "Helper").bot_account();

    let joined = tg.push_chat_member_joined(ROOM, "Room", &minji());
    // A promotion is not a join; neither is a bot arriving.
    tg.push_chat_member_update(
        ROOM,
        "Room",
        &jisoo,
        MemberStatus::Member,
        MemberStatus::Administrator,
    );
    tg.push_chat_member_joined(ROOM, "Room", &helper);
    let service = tg.push_new_chat_members(ROOM, "Room", &[jisoo.clone(), helper.clone()]);
    tg.push_new_chat_members(ROOM, "Room", std::slice::from_ref(&helper));
    let request = tg.push_join_request(VIP, "VIP", &minji(), "https://t.me/+abcdef");
    // Restricted without being a member, then let in (restricted as a member): a join.
    let back = tg.push_raw_update(
        "chat_member",
        serde_json::json!({
            "chat": {"id": ROOM, "type": "supergroup", "title": "Room"},
            "from": {"id": 1, "is_bot": false, "first_name": "Admin"},
            "date": Utc::now().timestamp(),
            "old_chat_member": {
                "user": {"id": 704, "is_bot": false, "first_name": "Returning"},
                "status": "restricted", "is_member": false, "until_date": 0,
                "can_send_messages": false, "can_send_audios": false,
                "can_send_documents": false, "can_send_photos": false,
                "can_send_videos": false, "can_send_video_notes": false,
                "can_send_voice_notes": false, "can_send_polls": false,
                "can_send_other_messages": false, "can_add_web_page_previews": false,
                "can_change_info": false, "can_invite_users": false,
                "can_pin_messages": false, "can_manage_topics": false
            },
            "new_chat_member": {
                "user": {"id": 704, "is_bot": false, "first_name": "Returning"},
                "status": "restricted", "is_member": true, "until_date": 0,
                "can_send_messages": true, "can_send_audios": false,
                "can_send_documents": false, "can_send_photos": false,
                "can_send_videos": false, "can_send_video_notes": false,
                "can_send_voice_notes": false, "can_send_polls": false,
                "can_send_other_messages": false, "can_add_web_page_previews": false,
                "can_change_info": false, "can_invite_users": false,
                "can_pin_messages": false, "can_manage_topics": false
            }
        }),
    );

    let updates = updates(&tg).await;
    assert_eq!(updates.len(), 7, "{updates:#?}");
    let incoming: Vec<Option<Incoming>> = updates
        .iter()
        .map(|u| to_incoming(u, Some(tg_support::BOT_USERNAME)))
        .collect();

    let first = incoming[0].as_ref().expect("a chat_member join");
    assert_eq!(first.update_id, joined.to_string());
    assert_eq!(first.chat_id, ROOM.to_string());
    assert!(!first.chat_is_private && !first.from_admin);
    assert_eq!(first.user_id, "701");
    assert_eq!(
        first.content,
        IncomingContent::MembersJoined {
            members: vec![Member {
                user_id: "701".into(),
                name: "Minji".into(),
                lang: Some("ko".into()),
            }]
        }
    );
    assert_eq!(incoming[1], None, "a promotion");
    assert_eq!(incoming[2], None, "a bot joining");

    let third = incoming[3].as_ref().expect("new_chat_members");
    assert_eq!(third.user_id, "703");
    assert_eq!(third.message_id, Some(service.to_string()));
    assert!(!third.chat_is_private);
    assert_eq!(
        third.content,
        IncomingContent::MembersJoined {
            members: vec![Member {
                user_id: "703".into(),
                name: "Jisoo".into(),
                lang: Some("en".into()),
            }]
        }
    );
    assert_eq!(incoming[4], None, "only a bot joined");

    let asked = incoming[5].as_ref().expect("chat_join_request");
    assert_eq!(asked.update_id, request.to_string());
    assert_eq!(
        (asked.chat_id.as_str(), asked.user_id.as_str()),
        ("-1000000000654", "701")
    );
    assert!(!asked.chat_is_private);
    assert_eq!(
        asked.content,
        IncomingContent::JoinRequest {
            invite_link: Some("https://t.me/+abcdef".into())
        }
    );

    let returning = incoming[6].as_ref().expect("let back in");
    assert_eq!(returning.update_id, back.to_string());
    assert_eq!(returning.user_id, "1", "whoever caused it");
    assert!(matches!(
        &returning.content,
        IncomingContent::MembersJoined { members } if members.len() == 1 && members[0].user_id == "704"
    ));
}

#[tokio::test]
async fn telegram_admins_are_known_from_a_cached_list_and_anonymous_admins_always() {
    let tg = FakeTelegram::start().await;
    let mut adapter = tg_adapter(&tg).await;
    let boss = TgUser::new(42, "Boss");
    tg.set_chat_member_status(ROOM, 42, MemberStatus::Administrator);
    tg.push_group_text(ROOM, "Room", &boss, "hello all", None);
    tg.push_group_text(ROOM, "Room", &minji(), "hi", None);
    tg.push_anonymous_admin_text(ROOM, "Room", "announcement");
    tg.push_private_text(&boss, "/help");
    tg.push_group_text(ROOM, "Room", &boss, "again", None);

    let mut seen = Vec::new();
    for update in updates(&tg).await {
        let mut incoming = to_incoming(&update, Some(tg_support::BOT_USERNAME)).unwrap();
        adapter.look_up_admin(&update, &mut incoming).await;
        seen.push(incoming.from_admin);
    }
    assert_eq!(seen, vec![true, false, true, false, true]);
    let asked = tg
        .requests()
        .iter()
        .filter(|r| r.method == "getChatAdministrators")
        .count();
    assert_eq!(asked, 1, "the list is cached");
}

#[tokio::test]
async fn the_telegram_poller_asks_for_joins_and_join_requests() {
    let t = TestApp::start().await;
    let joined = t.tg.push_chat_member_joined(ROOM, "Room", &minji());
    let request =
        t.tg.push_join_request(VIP, "VIP", &TgUser::new(702, "Jisoo"), "https://t.me/+x");
    for id in [joined, request] {
        assert!(
            processed(&t, "telegram", &id.to_string()).await,
            "update {id} reached the router"
        );
    }
}

/// Waits (up to 10 s) until the router recorded an update id like `pattern` (SQL `LIKE`).
async fn processed(t: &TestApp, platform: &str, pattern: &str) -> bool {
    for _ in 0..200 {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM processed_updates WHERE platform = $1 AND update_id LIKE $2",
        )
        .bind(platform)
        .bind(pattern)
        .fetch_one(t.ctx().store.pool_for_tests())
        .await
        .expect("query");
        if count > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

// ----------------------------------------------------------------------------------------------
// Discord
// ----------------------------------------------------------------------------------------------

fn viewer(id: u64) -> DcUser {
    DcUser::new(id, format!("viewer{id}")).with_global_name("Minji")
}

#[tokio::test]
async fn discord_mute_is_a_timeout_until_the_time_and_unmute_lifts_it() {
    let dc = FakeDiscord::start().await;
    let sender = dc_sender(&dc);
    let guild = GUILD_ID.to_string();
    dc.add_member(&viewer(2001), &[]);

    let until = Utc::now() + chrono::Duration::hours(1);
    let action = ChatAction::Mute {
        user_id: "2001".into(),
        until,
    };
    assert_eq!(sender.act(&guild, &action).await, Ok(ActionDone::Done));
    let timeouts = dc.timeouts();
    assert_eq!(timeouts.len(), 1);
    assert_eq!(
        (timeouts[0].guild_id, timeouts[0].user_id),
        (GUILD_ID, 2001)
    );
    let sent = chrono::DateTime::parse_from_rfc3339(timeouts[0].until.as_deref().unwrap()).unwrap();
    assert_eq!(sent, until);

    let unmute = ChatAction::Unmute {
        user_id: "2001".into(),
    };
    assert_eq!(sender.act(&guild, &unmute).await, Ok(ActionDone::Done));
    assert_eq!(dc.timeouts()[1].until, None);

    // The owner cannot be timed out, nor someone who is not a member: final refusals.
    let why = permanent(sender.act(&guild, &mute(&OWNER_ID.to_string())).await);
    assert!(
        why.contains("403") && why.contains("Missing Permissions"),
        "{why}"
    );
    let why = permanent(sender.act(&guild, &mute("2099")).await);
    assert!(why.contains("Unknown Member"), "{why}");
}

#[tokio::test]
async fn discord_delete_pin_and_one_use_invites() {
    let dc = FakeDiscord::start().await;
    let sender = dc_sender(&dc);
    let channel = COMMUNITY_CHANNEL_ID.to_string();
    let spam = dc.push_guild_message(COMMUNITY_CHANNEL_ID, &viewer(2002), "spam");

    let delete = ChatAction::Delete {
        message_id: spam.to_string(),
    };
    assert_eq!(sender.act(&channel, &delete).await, Ok(ActionDone::Done));
    assert_eq!(dc.deleted_messages(), vec![(COMMUNITY_CHANNEL_ID, spam)]);
    // Already gone: done.
    assert_eq!(sender.act(&channel, &delete).await, Ok(ActionDone::Done));
    assert_eq!(dc.deleted_messages().len(), 1);

    let rules = sender
        .send_part(
            &channel,
            &Part {
                text: "Rules".into(),
                ..Part::default()
            },
        )
        .await
        .expect("sent");
    let pin = ChatAction::Pin {
        message_id: rules.message_id.clone(),
    };
    assert_eq!(sender.act(&channel, &pin).await, Ok(ActionDone::Done));
    let pins = dc.pins();
    assert_eq!(pins.len(), 1);
    assert_eq!(pins[0].message_id.to_string(), rules.message_id);

    let link = ChatAction::CreateJoinLink {
        name: "VIP Minji".into(),
    };
    let first = sender.act(&channel, &link).await;
    let second = sender.act(&channel, &link).await;
    let invites = dc.invites();
    assert_eq!(invites.len(), 2);
    assert_eq!(
        first,
        Ok(ActionDone::Link(format!(
            "https://discord.gg/{}",
            invites[0].code
        )))
    );
    assert_ne!(first, second);
    for invite in &invites {
        assert_eq!(invite.channel_id, COMMUNITY_CHANNEL_ID);
        assert_eq!((invite.max_age, invite.max_uses), (604_800, 1));
        assert!(invite.unique);
    }
}

#[tokio::test]
async fn discord_roles_membership_and_refusals() {
    let dc = FakeDiscord::start().await;
    let sender = dc_sender(&dc);
    let guild = GUILD_ID.to_string();
    dc.add_member(&viewer(2003), &[]);

    let grant = ChatAction::GrantRole {
        user_id: "2003".into(),
        role_id: VIP_ROLE_ID.to_string(),
    };
    assert_eq!(sender.act(&guild, &grant).await, Ok(ActionDone::Done));
    assert_eq!(dc.member_roles(2003), Some(vec![VIP_ROLE_ID]));
    assert_eq!(dc.role_grants().len(), 1);
    let own_role = ChatAction::GrantRole {
        user_id: "2003".into(),
        role_id: BOT_ROLE_ID.to_string(),
    };
    permanent(sender.act(&guild, &own_role).await);

    assert_eq!(
        sender.act(&guild, &is_member(2003)).await,
        Ok(ActionDone::Member(true))
    );
    dc.remove_member(2003);
    assert_eq!(
        sender.act(&guild, &is_member(2003)).await,
        Ok(ActionDone::Member(false))
    );
    assert_eq!(
        sender.act(&guild, &is_member(2999)).await,
        Ok(ActionDone::Member(false))
    );
    // A guild that is not ours is not "not a member".
    let why = permanent(sender.act("1234", &is_member(2003)).await);
    assert!(why.contains("Unknown Guild"), "{why}");

    for action in [
        ChatAction::ApproveJoin {
            user_id: "2003".into(),
        },
        ChatAction::DeclineJoin {
            user_id: "2003".into(),
        },
    ] {
        permanent(sender.act(&guild, &action).await);
    }
    // Ids go into paths: anything but digits is refused before asking.
    let before = dc.requests().len();
    permanent(sender.act(&guild, &mute("../channels/1")).await);
    permanent(sender.act("abc", &is_member(2003)).await);
    assert_eq!(dc.requests().len(), before);
}

#[tokio::test]
async fn discord_rate_limits_wait_and_server_errors_are_temporary() {
    let dc = FakeDiscord::start().await;
    let sender = dc_sender(&dc);
    let guild = GUILD_ID.to_string();
    dc.add_member(&viewer(2004), &[]);

    dc.fail_next(
        1,
        dc_support::Fault::TooManyRequests {
            retry_after_ms: 1500,
            global: false,
        },
    );
    assert_eq!(
        sender.act(&guild, &mute("2004")).await,
        Err(SendError::RetryAfter(Duration::from_millis(1500)))
    );
    dc.fail_next(1, dc_support::Fault::ServerError);
    assert!(matches!(
        sender.act(&guild, &mute("2004")).await,
        Err(SendError::Transient(_))
    ));
    assert_eq!(
        sender.act(&guild, &mute("2004")).await,
        Ok(ActionDone::Done)
    );
    assert_eq!(dc.timeouts().len(), 1);
}

#[test]
fn a_guild_member_add_becomes_a_join_of_that_guild_and_bots_are_left_out() {
    let member: serenity::all::Member = serde_json::from_value(serde_json::json!({
        "guild_id": GUILD_ID.to_string(),
        "user": {
            "id": "2005", "username": "minji", "discriminator": "0",
            "global_name": "Minji", "avatar": null, "bot": false
        },
        "nick": null, "roles": [], "joined_at": "2025-05-01T10:00:00.000000+00:00",
        "deaf": false, "mute": false, "flags": 0,
    }))
    .expect("member");
    let incoming = member_joined(&member).expect("a join");
    assert_eq!(incoming.chat_id, GUILD_ID.to_string());
    assert!(!incoming.chat_is_private);
    assert_eq!(incoming.user_id, "2005");
    assert_eq!(
        incoming.update_id,
        format!("member-add:{GUILD_ID}:2005:1746093600")
    );
    assert_eq!(
        incoming.content,
        IncomingContent::MembersJoined {
            members: vec![Member {
                user_id: "2005".into(),
                name: "Minji".into(),
                lang: None,
            }]
        }
    );

    let mut bot = member.clone();
    bot.user.bot = true;
    assert_eq!(member_joined(&bot), None);
    let mut plain = member;
    plain.user.global_name = None;
    let incoming = member_joined(&plain).unwrap();
    assert_eq!(incoming.user_name.as_deref(), Some("minji"));
}

#[tokio::test]
async fn a_discord_member_join_reaches_the_router() {
    let t = TestApp::start_with(DISCORD_ONLY).await;
    t.dc.push_member_join(&viewer(2006));
    assert!(
        processed(&t, "discord", &format!("member-add:{GUILD_ID}:2006:%")).await,
        "GUILD_MEMBER_ADD reached the router"
    );
}
