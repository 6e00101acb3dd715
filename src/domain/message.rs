//! What kind of message a flow writes, and how urgently it travels.

use std::fmt;
use std::str::FromStr;

/// A stored name (a flow, a kind, a state) that no version of encore wrote.
#[derive(Debug, thiserror::Error)]
#[error("`{name}` is not a known {what}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl UnknownName {
    fn of(what: &'static str, name: &str) -> UnknownName {
        UnknownName {
            what,
            name: name.to_string(),
        }
    }
}

/// CONTRACT §6: every message is one or the other, decided by the flow that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Transactional,
    Advertising,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Transactional => "transactional",
            MessageKind::Advertising => "advertising",
        }
    }
}

impl FromStr for MessageKind {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<MessageKind, UnknownName> {
        match name {
            "transactional" => Ok(MessageKind::Transactional),
            "advertising" => Ok(MessageKind::Advertising),
            other => Err(UnknownName::of("message kind", other)),
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of message encore writes, by the flow that writes it. Its kind (CONTRACT §6)
/// follows from the flow, so no flow can label a message wrongly; `tests` walk every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// The thank-you to buyers after a broadcast (no offer, no promotional button).
    ThankYou,
    /// Order status, delay and late-order notes.
    OrderNote,
    /// Answers to what a viewer or staff member just did: command answers, consent
    /// confirmations, FAQ answers, hand-off acknowledgements, privacy answers.
    Reply,
    /// Asking for a comment after a rating, and thanking for it.
    FeedbackComment,
    /// Telling viewers their feedback was acted on.
    FeedbackReflected,
    TicketCard,
    TicketRelay,
    /// A staff member's answer relayed to the viewer.
    TicketReply,
    TicketClosed,
    TicketReminder,
    TicketProgress,
    /// Moderation in a community room: mutes, removed links, notices, staff notes.
    Moderation,
    /// A community room's welcome.
    Welcome,
    /// Next-live and we-are-live posts in community rooms (to a room, not a person).
    Announcement,
    /// A tier congratulation (and the VIP welcome with the way into the room).
    Tier,
    VipCode,
    VipPost,
    /// Join requests answered, the VIP role given.
    VipRoom,
    /// Consent confirmations the viewer did not ask for (a change from the shop's records).
    ConsentChanged,
    /// The reminder of when the viewer consented and how to withdraw.
    ConsentRenotice,
    /// Thanks for watching to a viewer who did not buy.
    EngagedThanks,
    /// "Is it working for you?" some days after delivery, without an offer.
    Checkin,
    Birthday,
    Winback,
    /// The first order after a win-back, thanked without an offer.
    WelcomeBack,
    NextLiveAlert,
    /// One reminder of a cart left without ordering its items.
    CartReminder,
    /// The weekly letter: the coming lives, news from the VIP room.
    Digest,
    /// A next-live alert that names something the viewer bought and what goes with it.
    Pick,
    /// A win-back that speaks to why the customer may have left (by cause).
    TrustRecovery,
    /// Community polls: the poll in each room, its closing and its result (to rooms and the
    /// staff chat, not to a person).
    Poll,
}

impl Flow {
    pub const ALL: [Flow; 31] = [
        Flow::ThankYou,
        Flow::OrderNote,
        Flow::Reply,
        Flow::FeedbackComment,
        Flow::FeedbackReflected,
        Flow::TicketCard,
        Flow::TicketRelay,
        Flow::TicketReply,
        Flow::TicketClosed,
        Flow::TicketReminder,
        Flow::TicketProgress,
        Flow::Moderation,
        Flow::Welcome,
        Flow::Announcement,
        Flow::Tier,
        Flow::VipCode,
        Flow::VipPost,
        Flow::VipRoom,
        Flow::ConsentChanged,
        Flow::ConsentRenotice,
        Flow::EngagedThanks,
        Flow::Checkin,
        Flow::Birthday,
        Flow::Winback,
        Flow::WelcomeBack,
        Flow::NextLiveAlert,
        Flow::CartReminder,
        Flow::Digest,
        Flow::Pick,
        Flow::TrustRecovery,
        Flow::Poll,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flow::ThankYou => "thank_you",
            Flow::OrderNote => "order_note",
            Flow::Reply => "reply",
            Flow::FeedbackComment => "feedback_comment",
            Flow::FeedbackReflected => "feedback_reflected",
            Flow::TicketCard => "ticket_card",
            Flow::TicketRelay => "ticket_relay",
            Flow::TicketReply => "ticket_reply",
            Flow::TicketClosed => "ticket_closed",
            Flow::TicketReminder => "ticket_reminder",
            Flow::TicketProgress => "ticket_progress",
            Flow::Moderation => "moderation",
            Flow::Welcome => "welcome",
            Flow::Announcement => "announcement",
            Flow::Tier => "tier",
            Flow::VipCode => "vip_code",
            Flow::VipPost => "vip_post",
            Flow::VipRoom => "vip_room",
            Flow::ConsentChanged => "consent_changed",
            Flow::ConsentRenotice => "consent_renotice",
            Flow::EngagedThanks => "engaged_thanks",
            Flow::Checkin => "checkin",
            Flow::Birthday => "birthday",
            Flow::Winback => "winback",
            Flow::WelcomeBack => "welcome_back",
            Flow::NextLiveAlert => "next_live_alert",
            Flow::CartReminder => "cart_reminder",
            Flow::Digest => "digest",
            Flow::Pick => "picks",
            Flow::TrustRecovery => "trust_recovery",
            Flow::Poll => "poll",
        }
    }

    /// CONTRACT §6's table.
    pub fn kind(self) -> MessageKind {
        match self {
            Flow::ThankYou
            | Flow::OrderNote
            | Flow::Reply
            | Flow::FeedbackComment
            | Flow::FeedbackReflected
            | Flow::TicketCard
            | Flow::TicketRelay
            | Flow::TicketReply
            | Flow::TicketClosed
            | Flow::TicketReminder
            | Flow::TicketProgress
            | Flow::Moderation
            | Flow::Welcome
            | Flow::Announcement
            | Flow::VipRoom
            | Flow::ConsentChanged
            | Flow::ConsentRenotice
            | Flow::Checkin
            | Flow::WelcomeBack
            | Flow::Poll => MessageKind::Transactional,
            Flow::Tier
            | Flow::VipCode
            | Flow::VipPost
            | Flow::EngagedThanks
            | Flow::Birthday
            | Flow::Winback
            | Flow::NextLiveAlert
            | Flow::CartReminder
            | Flow::Digest
            | Flow::Pick
            | Flow::TrustRecovery => MessageKind::Advertising,
        }
    }

    /// Journey messages go out only inside `policy.send_window` (next-live alerts, picks
    /// included, are not journeys: they follow quiet hours only).
    pub fn is_journey(self) -> bool {
        matches!(
            self,
            Flow::EngagedThanks
                | Flow::Checkin
                | Flow::Birthday
                | Flow::Winback
                | Flow::WelcomeBack
                | Flow::CartReminder
                | Flow::Digest
                | Flow::TrustRecovery
        )
    }

    /// The `[journeys]` key (CONTRACT §1, §2) of the journey a message of this flow belongs
    /// to, if any: what `journeys preview` and the period report name it.
    pub fn journey_key(self) -> Option<&'static str> {
        match self {
            Flow::Checkin => Some("checkin"),
            Flow::Birthday => Some("birthday"),
            Flow::Winback => Some("winback"),
            Flow::WelcomeBack => Some("welcome_back"),
            Flow::NextLiveAlert => Some("next_live_alerts"),
            Flow::CartReminder => Some("cart_reminder"),
            Flow::Pick => Some("picks"),
            Flow::TrustRecovery => Some("trust_recovery"),
            Flow::Digest => Some("digest"),
            _ => None,
        }
    }

    pub fn from_name(name: &str) -> Option<Flow> {
        Flow::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl FromStr for Flow {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Flow, UnknownName> {
        Flow::from_name(name).ok_or_else(|| UnknownName::of("flow", name))
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Interactive replies go ahead of bulk sends (DESIGN invariant 3). Stored as a number so the
/// dispatcher can order by it: the lower, the sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// A viewer's question answered, a hand-off acknowledged, a relay to or from staff.
    Interactive = 0,
    /// The staff chat's own traffic: ticket cards, reminders, feedback, reports.
    Staff = 1,
    /// Sends to many viewers: thank-yous, order notes.
    Bulk = 2,
}

impl Lane {
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    pub fn from_i64(value: i64) -> Lane {
        match value {
            0 => Lane::Interactive,
            1 => Lane::Staff,
            _ => Lane::Bulk,
        }
    }

    /// The lane a stored number names; `None` for a number no version of encore wrote.
    pub fn try_from_i64(value: i64) -> Option<Lane> {
        [Lane::Interactive, Lane::Staff, Lane::Bulk]
            .into_iter()
            .find(|lane| lane.as_i64() == value)
    }
}

/// Where an outbox message is in its life: `queued` → `claimed` → `sending` → `sent`, or back
/// to `queued`, or one of the final states (store/outbox.rs describes each step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    Queued,
    /// Taken by a dispatcher, not yet on the wire.
    Claimed,
    /// The platform call is under way: only these can be duplicated by a crash.
    Sending,
    Sent,
    Failed,
    /// The viewer blocked the bot on every linked platform.
    Blocked,
    /// No usable messenger identity.
    Unreachable,
    Cancelled,
    /// Advertising without consent (or switched off).
    Refused,
    Expired,
    /// The request was written but no answer came (timeout, reset): the platform may or may
    /// not have it. Not sent again (docs/delivery.md says which kinds get one more try).
    Unknown,
    /// Its only way was KakaoTalk, which has no template for it (`[kakao.templates]`): not sent,
    /// counted as `no_template` (CONTRACT §11).
    NoTemplate,
}

impl OutboxState {
    pub const ALL: [OutboxState; 12] = [
        OutboxState::Queued,
        OutboxState::Claimed,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Blocked,
        OutboxState::Unreachable,
        OutboxState::Cancelled,
        OutboxState::Refused,
        OutboxState::Expired,
        OutboxState::Unknown,
        OutboxState::NoTemplate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Claimed => "claimed",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Blocked => "blocked",
            OutboxState::Unreachable => "unreachable",
            OutboxState::Cancelled => "cancelled",
            OutboxState::Refused => "refused",
            OutboxState::Expired => "expired",
            OutboxState::Unknown => "unknown",
            OutboxState::NoTemplate => "no_template",
        }
    }
}

impl FromStr for OutboxState {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<OutboxState, UnknownName> {
        OutboxState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| UnknownName::of("outbox state", name))
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CONTRACT §6, row by row: every message the code can write (every flow) and its kind.
    #[test]
    fn every_message_the_code_writes_has_the_kind_the_contract_gives_it() {
        use MessageKind::{Advertising, Transactional};
        let table = [
            // thank-you for an order (no offer, no promotional button)
            (Flow::ThankYou, Transactional),
            // order status, delay, payment reminder
            (Flow::OrderNote, Transactional),
            // hand-off acknowledgements, relays, progress notes, replies, FAQ answers
            (Flow::Reply, Transactional),
            (Flow::TicketCard, Transactional),
            (Flow::TicketRelay, Transactional),
            (Flow::TicketReply, Transactional),
            (Flow::TicketReminder, Transactional),
            (Flow::TicketProgress, Transactional),
            // satisfaction question about the help they just got from staff (no reward)
            (Flow::TicketClosed, Transactional),
            (Flow::FeedbackComment, Transactional),
            (Flow::FeedbackReflected, Transactional),
            // satisfaction question about something the viewer bought (no reward)
            (Flow::Checkin, Transactional),
            // consent confirmations, re-notices, privacy answers
            (Flow::ConsentChanged, Transactional),
            (Flow::ConsentRenotice, Transactional),
            // messages to a room, not a person
            (Flow::Welcome, Transactional),
            (Flow::Announcement, Transactional),
            (Flow::Moderation, Transactional),
            (Flow::VipRoom, Transactional),
            (Flow::Poll, Transactional),
            // thank-you to a viewer who watched or chatted but did not buy
            (Flow::EngagedThanks, Advertising),
            // VIP codes, VIP posts, tier congratulations, birthday, win-back, next-live alerts
            (Flow::VipCode, Advertising),
            (Flow::VipPost, Advertising),
            (Flow::Tier, Advertising),
            (Flow::Birthday, Advertising),
            (Flow::Winback, Advertising),
            (Flow::NextLiveAlert, Advertising),
            // welcome-back after a win-back, without an offer: it thanks for an order
            (Flow::WelcomeBack, Transactional),
            // cart reminder, personalised picks, trust-recovery win-back, the weekly letter
            (Flow::CartReminder, Advertising),
            (Flow::Pick, Advertising),
            (Flow::TrustRecovery, Advertising),
            (Flow::Digest, Advertising),
        ];
        assert_eq!(table.len(), Flow::ALL.len(), "the table names every flow");
        for flow in Flow::ALL {
            let expected = table
                .iter()
                .find(|(f, _)| *f == flow)
                .map(|(_, kind)| *kind)
                .unwrap_or_else(|| panic!("{flow} is not in the contract's table"));
            assert_eq!(flow.kind(), expected, "{flow}");
            assert_eq!(
                Flow::from_name(flow.as_str()),
                Some(flow),
                "{flow} round-trips"
            );
        }
    }

    #[test]
    fn stored_names_read_back_as_what_was_written() {
        for state in OutboxState::ALL {
            assert_eq!(state.as_str().parse::<OutboxState>().ok(), Some(state));
        }
        for kind in [MessageKind::Transactional, MessageKind::Advertising] {
            assert_eq!(kind.as_str().parse::<MessageKind>().ok(), Some(kind));
        }
        for flow in Flow::ALL {
            assert_eq!(flow.as_str().parse::<Flow>().ok(), Some(flow));
        }
        for lane in [Lane::Interactive, Lane::Staff, Lane::Bulk] {
            assert_eq!(Lane::try_from_i64(lane.as_i64()), Some(lane));
        }
        assert!("shipped".parse::<OutboxState>().is_err());
        assert!("promo".parse::<MessageKind>().is_err());
        assert!("nonsense".parse::<Flow>().is_err());
        assert_eq!(Lane::try_from_i64(3), None);
    }

    #[test]
    fn journeys_are_the_lifecycle_messages_and_alerts_are_not_among_them() {
        let journeys: Vec<Flow> = Flow::ALL.into_iter().filter(|f| f.is_journey()).collect();
        assert_eq!(
            journeys,
            vec![
                Flow::EngagedThanks,
                Flow::Checkin,
                Flow::Birthday,
                Flow::Winback,
                Flow::WelcomeBack,
                Flow::CartReminder,
                Flow::Digest,
                Flow::TrustRecovery
            ]
        );
    }
}
