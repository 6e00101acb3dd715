//! Every key format, pinned to the exact strings stored by earlier versions.

use super::*;

fn s(text: &str) -> String {
    text.to_string()
}

/// Every variant, with the exact string earlier versions stored for it.
fn every_key() -> Vec<(IdemKey, &'static str)> {
    use Platform::{Discord, Telegram};
    vec![
        (
            IdemKey::ThankYou {
                broadcast_id: s("b-1"),
                customer_id: s("c-1"),
            },
            "thank_you:b-1:c-1",
        ),
        (
            IdemKey::OrderNote {
                status: s("shipped"),
                delay_eta: None,
                order_id: s("o-1"),
            },
            "order_note:shipped:o-1",
        ),
        (
            IdemKey::OrderNote {
                status: s("delayed"),
                delay_eta: NaiveDate::from_ymd_opt(2026, 3, 4),
                order_id: s("o-1"),
            },
            "order_note:delayed@2026-03-04:o-1",
        ),
        (
            IdemKey::Reply {
                platform: Discord,
                update_id: s("message:123"),
                n: 2,
            },
            "reply:discord:message:123:2",
        ),
        (
            IdemKey::FeedbackComment {
                feedback_id: 4,
                platform: Telegram,
                update_id: s("10001"),
            },
            "feedback_comment:4:telegram:10001",
        ),
        (IdemKey::FeedbackReflected { feedback_id: 4 }, "reflected:4"),
        (IdemKey::TicketCard { ticket: 12 }, "ticket_card:12"),
        (
            IdemKey::TicketRelay {
                ticket: 7,
                platform: Discord,
                update_id: s("message:99"),
            },
            "ticket_relay:7:discord:message:99",
        ),
        (
            IdemKey::StaffReply {
                platform: Telegram,
                update_id: s("5"),
            },
            "staff_reply:telegram:5",
        ),
        (IdemKey::TicketClosed { ticket: 3 }, "ticket_closed:3"),
        (IdemKey::TicketReminder { ticket: 3 }, "ticket_reminder:3"),
        (IdemKey::TicketProgress { ticket: 3 }, "ticket_progress:3"),
        (IdemKey::TicketIdle { ticket: 3 }, "ticket_idle:3"),
        (
            IdemKey::Welcome {
                platform: Telegram,
                room: s("-100123"),
                first_member: s("42"),
            },
            "welcome:telegram:-100123:42",
        ),
        (
            IdemKey::Announcement {
                stage: BroadcastStage::Scheduled,
                broadcast_id: s("b-1"),
                platform: Telegram,
                room: s("-100123"),
            },
            "announce:scheduled:b-1:telegram:-100123",
        ),
        (
            IdemKey::AnnouncementPin {
                stage: BroadcastStage::Scheduled,
                broadcast_id: s("b-1"),
                platform: Discord,
                room: s("555"),
            },
            "pin:scheduled:b-1:discord:555",
        ),
        (
            IdemKey::Delete {
                platform: Telegram,
                room: s("-100123"),
                message_id: s("77"),
            },
            "delete:telegram:-100123:77",
        ),
        (IdemKey::Mute { mute_id: 9 }, "mute:9"),
        (IdemKey::Unmute { mute_id: 9 }, "unmute:9"),
        (IdemKey::MuteNotice { mute_id: 9 }, "mute-notice:9"),
        (IdemKey::MuteStaff { mute_id: 9 }, "mute-staff:9"),
        (
            IdemKey::LinkNotice {
                platform: Telegram,
                user_id: s("42"),
                room: s("-100123"),
                message_id: s("77"),
            },
            "link-notice:telegram:42:-100123:77",
        ),
        (
            IdemKey::Tier {
                tier: s("gold"),
                customer_id: s("c-1"),
            },
            "tier:gold:c-1",
        ),
        (
            IdemKey::SharedCode {
                code: s("WINTER10"),
                customer_id: s("c-1"),
            },
            "code:WINTER10:c-1",
        ),
        (
            IdemKey::PoolCode {
                campaign: s("spring"),
                customer_id: s("c-1"),
            },
            "code:pool:spring:c-1",
        ),
        (
            IdemKey::CodeInRoom {
                code: s("WINTER10"),
                platform: Discord,
                room: s("555"),
            },
            "code-room:WINTER10:discord:555",
        ),
        (
            IdemKey::VipPost {
                posted_on: Discord,
                update_id: s("message:1"),
                customer_id: s("c-1"),
            },
            "vippost:discord:message:1:c-1",
        ),
        (
            IdemKey::VipPostInRoom {
                posted_on: Discord,
                update_id: s("message:1"),
                platform: Telegram,
                room: s("-100123"),
            },
            "vippost-room:discord:message:1:telegram:-100123",
        ),
        (
            IdemKey::JoinAnswer {
                platform: Telegram,
                update_id: s("8"),
            },
            "join:telegram:8",
        ),
        (
            IdemKey::VipRole {
                customer_id: s("c-1"),
            },
            "vip-role:c-1",
        ),
        (
            IdemKey::ConsentChanged {
                purpose: s("marketing"),
                given_at_micros: 1_700_000_000_000_001,
                customer_id: s("c-1"),
            },
            "consent-changed:marketing:1700000000000001:c-1",
        ),
        (
            IdemKey::ConsentRenotice {
                given_at: 1_700_000_000,
                periods: 2,
                customer_id: s("c-1"),
            },
            "renotice:1700000000:2:c-1",
        ),
        (
            IdemKey::EngagedThanks {
                broadcast_id: s("b-1"),
                customer_id: s("c-1"),
            },
            "engaged:b-1:c-1",
        ),
        (IdemKey::Checkin { order_id: s("o-1") }, "checkin:o-1"),
        (
            IdemKey::Birthday {
                year: 2026,
                customer_id: s("c-1"),
            },
            "birthday:2026:c-1",
        ),
        (
            IdemKey::Winback {
                last_activity: 1_700_000_000,
                attempt: 1,
                customer_id: s("c-1"),
            },
            "winback:1700000000:1:c-1",
        ),
        (
            IdemKey::WelcomeBack {
                winback_key: s("winback:1700000000:1:c-1"),
            },
            "welcome_back:winback:1700000000:1:c-1",
        ),
        (
            IdemKey::NextLiveAlert {
                stage: BroadcastStage::Started,
                broadcast_id: s("b-1"),
                customer_id: s("c-1"),
            },
            "alert:started:b-1:c-1",
        ),
        (
            IdemKey::CartReminder {
                cart_id: s("cart-1"),
                customer_id: s("c-1"),
            },
            "cart:cart-1:c-1",
        ),
        (
            IdemKey::Digest {
                week: s("2026-W49"),
                customer_id: s("c-1"),
            },
            "digest:2026-W49:c-1",
        ),
        (
            IdemKey::PollPost {
                poll: 3,
                platform: Telegram,
                room: s("-1002"),
            },
            "poll:3:telegram:-1002",
        ),
        (
            IdemKey::PollClose {
                poll: 3,
                platform: Discord,
                room: s("2"),
            },
            "poll-close:3:discord:2",
        ),
        (
            IdemKey::PollResult {
                poll: 12,
                platform: Telegram,
                room: s("-1001000000002"),
            },
            "poll-result:12:telegram:-1001000000002",
        ),
    ]
}

#[test]
fn every_key_is_written_exactly_as_stored_keys_are_and_parses_back() {
    let keys = every_key();
    for (key, stored) in &keys {
        assert_eq!(key.to_string(), *stored);
        assert_eq!(IdemKey::parse(stored).as_ref(), Some(key), "{stored}");
    }
    // One example per variant: a new variant needs its line here.
    let mut kinds: Vec<_> = keys
        .iter()
        .map(|(k, _)| std::mem::discriminant(k))
        .collect();
    kinds.dedup();
    assert_eq!(kinds.len(), 42);
}

#[test]
fn a_string_encore_never_wrote_is_not_a_key() {
    for text in [
        "",
        "thank_you",
        "nonsense:1",
        "ticket_card:x",
        "reply:fax:1:2",
    ] {
        assert!(IdemKey::parse(text).is_none(), "{text}");
        assert!(text.parse::<IdemKey>().is_err(), "{text}");
    }
}

#[test]
fn the_ticket_of_a_staff_message_comes_from_its_card_or_relay_key() {
    assert_eq!(IdemKey::ticket_of("ticket_card:12"), Some(12));
    assert_eq!(IdemKey::ticket_of("ticket_relay:7:telegram:10001"), Some(7));
    assert_eq!(IdemKey::ticket_of("thank_you:b-1:c-1"), None);
}

#[test]
fn prefixes_match_the_keys_they_find() {
    let relay = IdemKey::TicketRelay {
        ticket: 7,
        platform: Platform::Telegram,
        update_id: s("1"),
    };
    assert!(
        relay
            .to_string()
            .starts_with(&IdemKey::ticket_relay_prefix(7))
    );
    let comment = IdemKey::FeedbackComment {
        feedback_id: 4,
        platform: Platform::Telegram,
        update_id: s("1"),
    };
    assert!(
        comment
            .to_string()
            .starts_with(&IdemKey::feedback_comment_prefix(4))
    );
    let notice = IdemKey::LinkNotice {
        platform: Platform::Telegram,
        user_id: s("42"),
        room: s("-1"),
        message_id: s("2"),
    };
    assert!(
        notice
            .to_string()
            .starts_with(&IdemKey::link_notice_prefix("telegram", "42"))
    );
    let thanks = IdemKey::ThankYou {
        broadcast_id: s("b-1"),
        customer_id: s("c-1"),
    };
    assert_eq!(
        thanks.to_string(),
        format!("{}c-1", IdemKey::thank_you_prefix("b-1"))
    );
    let checkin = IdemKey::Checkin { order_id: s("o") };
    assert_eq!(
        checkin.to_string(),
        format!("{}o", IdemKey::checkin_prefix())
    );
    assert_eq!(
        IdemKey::order_note_status_of("order_note:delayed@2026-03-04:o-1").as_deref(),
        Some("delayed")
    );
    assert_eq!(
        IdemKey::checkin_order_of("checkin:o-1").as_deref(),
        Some("o-1")
    );
}

#[test]
fn renaming_the_customer_touches_only_keys_that_end_with_them() {
    assert_eq!(
        IdemKey::rename_customer("thank_you:b-1:c-1", "c-1", "p-9").as_deref(),
        Some("thank_you:b-1:p-9")
    );
    assert_eq!(
        IdemKey::rename_customer("vip-role:c-1", "c-1", "p").as_deref(),
        Some("vip-role:p")
    );
    assert_eq!(
        IdemKey::rename_customer("thank_you:b-1:c-10", "c-1", "p"),
        None
    );
    assert_eq!(
        IdemKey::rename_customer("thank_you:b-1:xc-1", "c-1", "p"),
        None
    );
    assert_eq!(IdemKey::rename_customer("checkin:o-1", "c-1", "p"), None);
    assert_eq!(IdemKey::rename_customer("c-1", "c-1", "p"), None);
}
