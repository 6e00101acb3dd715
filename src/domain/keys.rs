//! Outbox idempotency keys: the one type that builds and parses them (DESIGN invariant 2).
//!
//! A key names the flow, the thing the message is about and — for a message to a person — the
//! customer, last, so forgetting and merging can rename it ([`IdemKey::rename_customer`]). The
//! strings are stored and unique in the outbox: their formats must never change, or a message
//! already sent would go out again. Nothing outside this module formats or parses one; it
//! never touches the database.
//!
//! Parsing: fields are separated by `:`. The one field that may itself hold a `:` is the
//! update id when the key has one (Discord's are `message:<id>` / `interaction:<id>`), else the
//! last field.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::Platform;

/// Which announcement of a broadcast a key is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastStage {
    Scheduled,
    Started,
}

impl BroadcastStage {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStage::Scheduled => "scheduled",
            BroadcastStage::Started => "started",
        }
    }

    fn parse(text: &str) -> Option<BroadcastStage> {
        match text {
            "scheduled" => Some(BroadcastStage::Scheduled),
            "started" => Some(BroadcastStage::Started),
            _ => None,
        }
    }
}

/// Every idempotency key encore writes, by what the message is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemKey {
    /// `thank_you:<broadcast>:<customer>`
    ThankYou {
        broadcast_id: String,
        customer_id: String,
    },
    /// `order_note:<status>[@<delay eta>]:<order>`: a second delay with a new date is a new note.
    OrderNote {
        status: String,
        delay_eta: Option<NaiveDate>,
        order_id: String,
    },
    /// `reply:<platform>:<update>:<n>`: the n-th reply an update caused.
    Reply {
        platform: Platform,
        update_id: String,
        n: usize,
    },
    /// `feedback_comment:<feedback>:<platform>:<update>`
    FeedbackComment {
        feedback_id: i64,
        platform: Platform,
        update_id: String,
    },
    /// `reflected:<feedback>`
    FeedbackReflected { feedback_id: i64 },
    /// `ticket_card:<ticket>`
    TicketCard { ticket: i64 },
    /// `ticket_relay:<ticket>:<platform>:<update>`
    TicketRelay {
        ticket: i64,
        platform: Platform,
        update_id: String,
    },
    /// `staff_reply:<platform>:<update>`
    StaffReply {
        platform: Platform,
        update_id: String,
    },
    /// `ticket_closed:<ticket>`
    TicketClosed { ticket: i64 },
    /// `ticket_reminder:<ticket>`
    TicketReminder { ticket: i64 },
    /// `ticket_progress:<ticket>`
    TicketProgress { ticket: i64 },
    /// `ticket_idle:<ticket>`
    TicketIdle { ticket: i64 },
    /// `welcome:<platform>:<room>:<first member>`
    Welcome {
        platform: Platform,
        room: String,
        first_member: String,
    },
    /// `announce:<stage>:<broadcast>:<platform>:<room>`
    Announcement {
        stage: BroadcastStage,
        broadcast_id: String,
        platform: Platform,
        room: String,
    },
    /// `pin:<stage>:<broadcast>:<platform>:<room>`
    AnnouncementPin {
        stage: BroadcastStage,
        broadcast_id: String,
        platform: Platform,
        room: String,
    },
    /// `delete:<platform>:<room>:<message>`
    Delete {
        platform: Platform,
        room: String,
        message_id: String,
    },
    /// `mute:<mute>`
    Mute { mute_id: i64 },
    /// `unmute:<mute>`
    Unmute { mute_id: i64 },
    /// `mute-notice:<mute>`
    MuteNotice { mute_id: i64 },
    /// `mute-staff:<mute>`
    MuteStaff { mute_id: i64 },
    /// `link-notice:<platform>:<user>:<room>:<message>`
    LinkNotice {
        platform: Platform,
        user_id: String,
        room: String,
        message_id: String,
    },
    /// `tier:<tier>:<customer>`
    Tier { tier: String, customer_id: String },
    /// `code:<code>:<customer>`: a code shared by everyone in the tier.
    SharedCode { code: String, customer_id: String },
    /// `code:pool:<campaign>:<customer>`: a code of its own from a campaign's pool.
    PoolCode {
        campaign: String,
        customer_id: String,
    },
    /// `code-room:<code>:<platform>:<room>`
    CodeInRoom {
        code: String,
        platform: Platform,
        room: String,
    },
    /// `vippost:<platform>:<update>:<customer>`: a VIP post, named by the staff message.
    VipPost {
        posted_on: Platform,
        update_id: String,
        customer_id: String,
    },
    /// `vippost-room:<platform>:<update>:<platform>:<room>`
    VipPostInRoom {
        posted_on: Platform,
        update_id: String,
        platform: Platform,
        room: String,
    },
    /// `join:<platform>:<update>`: a join request answered.
    JoinAnswer {
        platform: Platform,
        update_id: String,
    },
    /// `vip-role:<customer>`
    VipRole { customer_id: String },
    /// `consent-changed:<purpose>:<given at, µs>:<customer>`
    ConsentChanged {
        purpose: String,
        given_at_micros: i64,
        customer_id: String,
    },
    /// `renotice:<given at, s>:<periods>:<customer>`
    ConsentRenotice {
        given_at: i64,
        periods: i64,
        customer_id: String,
    },
    /// `engaged:<broadcast>:<customer>`
    EngagedThanks {
        broadcast_id: String,
        customer_id: String,
    },
    /// `checkin:<order>`
    Checkin { order_id: String },
    /// `birthday:<year>:<customer>`
    Birthday { year: i32, customer_id: String },
    /// `winback:<last activity, s>:<attempt>:<customer>`
    Winback {
        last_activity: i64,
        attempt: usize,
        customer_id: String,
    },
    /// `welcome_back:<the win-back's key>`
    WelcomeBack { winback_key: String },
    /// `alert:<stage>:<broadcast>:<customer>`
    NextLiveAlert {
        stage: BroadcastStage,
        broadcast_id: String,
        customer_id: String,
    },
    /// `cart:<cart>:<customer>`: a cart's one reminder.
    CartReminder {
        cart_id: String,
        customer_id: String,
    },
    /// `digest:<ISO week, like 2026-W49>:<customer>`: one weekly letter a week.
    Digest { week: String, customer_id: String },
    /// `poll:<poll>:<platform>:<room>`: a poll posted in a community room.
    PollPost {
        poll: i64,
        platform: Platform,
        room: String,
    },
    /// `poll-close:<poll>:<platform>:<room>`: the posted poll stopped (Telegram) or its buttons
    /// taken away (Discord).
    PollClose {
        poll: i64,
        platform: Platform,
        room: String,
    },
    /// `poll-result:<poll>:<platform>:<room>`: a closed poll's result posted in a room.
    PollResult {
        poll: i64,
        platform: Platform,
        room: String,
    },
}

const CHECKIN: &str = "checkin:";

impl IdemKey {
    /// Parses a stored key; `None` for a string no version of encore wrote.
    pub fn parse(key: &str) -> Option<IdemKey> {
        let (head, rest) = key.split_once(':')?;
        let platform = |text: &str| text.parse::<Platform>().ok();
        let key = match head {
            "thank_you" => {
                let (broadcast_id, customer_id) = rest.split_once(':')?;
                IdemKey::ThankYou {
                    broadcast_id: broadcast_id.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "order_note" => {
                let (status, order_id) = rest.split_once(':')?;
                let (status, delay_eta) = match status.split_once('@') {
                    Some((status, eta)) => (status, Some(eta.parse().ok()?)),
                    None => (status, None),
                };
                IdemKey::OrderNote {
                    status: status.to_string(),
                    delay_eta,
                    order_id: order_id.to_string(),
                }
            }
            "reply" => {
                let (on, rest) = rest.split_once(':')?;
                let (update_id, n) = rest.rsplit_once(':')?;
                IdemKey::Reply {
                    platform: platform(on)?,
                    update_id: update_id.to_string(),
                    n: n.parse().ok()?,
                }
            }
            "feedback_comment" => {
                let (id, rest) = rest.split_once(':')?;
                let (on, update_id) = rest.split_once(':')?;
                IdemKey::FeedbackComment {
                    feedback_id: id.parse().ok()?,
                    platform: platform(on)?,
                    update_id: update_id.to_string(),
                }
            }
            "reflected" => IdemKey::FeedbackReflected {
                feedback_id: rest.parse().ok()?,
            },
            "ticket_card" => IdemKey::TicketCard {
                ticket: rest.parse().ok()?,
            },
            "ticket_relay" => {
                let (ticket, rest) = rest.split_once(':')?;
                let (on, update_id) = rest.split_once(':')?;
                IdemKey::TicketRelay {
                    ticket: ticket.parse().ok()?,
                    platform: platform(on)?,
                    update_id: update_id.to_string(),
                }
            }
            "staff_reply" => {
                let (on, update_id) = rest.split_once(':')?;
                IdemKey::StaffReply {
                    platform: platform(on)?,
                    update_id: update_id.to_string(),
                }
            }
            "ticket_closed" => IdemKey::TicketClosed {
                ticket: rest.parse().ok()?,
            },
            "ticket_reminder" => IdemKey::TicketReminder {
                ticket: rest.parse().ok()?,
            },
            "ticket_progress" => IdemKey::TicketProgress {
                ticket: rest.parse().ok()?,
            },
            "ticket_idle" => IdemKey::TicketIdle {
                ticket: rest.parse().ok()?,
            },
            "welcome" => {
                let (on, rest) = rest.split_once(':')?;
                let (room, first_member) = rest.split_once(':')?;
                IdemKey::Welcome {
                    platform: platform(on)?,
                    room: room.to_string(),
                    first_member: first_member.to_string(),
                }
            }
            "announce" | "pin" => {
                let (stage, rest) = rest.split_once(':')?;
                let (broadcast_id, rest) = rest.split_once(':')?;
                let (on, room) = rest.split_once(':')?;
                let (stage, broadcast_id, platform, room) = (
                    BroadcastStage::parse(stage)?,
                    broadcast_id.to_string(),
                    platform(on)?,
                    room.to_string(),
                );
                if head == "pin" {
                    IdemKey::AnnouncementPin {
                        stage,
                        broadcast_id,
                        platform,
                        room,
                    }
                } else {
                    IdemKey::Announcement {
                        stage,
                        broadcast_id,
                        platform,
                        room,
                    }
                }
            }
            "delete" => {
                let (on, rest) = rest.split_once(':')?;
                let (room, message_id) = rest.split_once(':')?;
                IdemKey::Delete {
                    platform: platform(on)?,
                    room: room.to_string(),
                    message_id: message_id.to_string(),
                }
            }
            "mute" => IdemKey::Mute {
                mute_id: rest.parse().ok()?,
            },
            "unmute" => IdemKey::Unmute {
                mute_id: rest.parse().ok()?,
            },
            "mute-notice" => IdemKey::MuteNotice {
                mute_id: rest.parse().ok()?,
            },
            "mute-staff" => IdemKey::MuteStaff {
                mute_id: rest.parse().ok()?,
            },
            "link-notice" => {
                let (on, rest) = rest.split_once(':')?;
                let (user_id, rest) = rest.split_once(':')?;
                let (room, message_id) = rest.split_once(':')?;
                IdemKey::LinkNotice {
                    platform: platform(on)?,
                    user_id: user_id.to_string(),
                    room: room.to_string(),
                    message_id: message_id.to_string(),
                }
            }
            "tier" => {
                let (tier, customer_id) = rest.split_once(':')?;
                IdemKey::Tier {
                    tier: tier.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "code" => match rest.strip_prefix("pool:") {
                // Three fields after `code:` are a pool code; a shared code has two.
                Some(pooled) if pooled.contains(':') => {
                    let (campaign, customer_id) = pooled.split_once(':')?;
                    IdemKey::PoolCode {
                        campaign: campaign.to_string(),
                        customer_id: customer_id.to_string(),
                    }
                }
                _ => {
                    let (code, customer_id) = rest.split_once(':')?;
                    IdemKey::SharedCode {
                        code: code.to_string(),
                        customer_id: customer_id.to_string(),
                    }
                }
            },
            "code-room" => {
                let (code, rest) = rest.split_once(':')?;
                let (on, room) = rest.split_once(':')?;
                IdemKey::CodeInRoom {
                    code: code.to_string(),
                    platform: platform(on)?,
                    room: room.to_string(),
                }
            }
            "vippost" => {
                let (on, rest) = rest.split_once(':')?;
                let (update_id, customer_id) = rest.rsplit_once(':')?;
                IdemKey::VipPost {
                    posted_on: platform(on)?,
                    update_id: update_id.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "vippost-room" => {
                let (on, rest) = rest.split_once(':')?;
                let (rest, room) = rest.rsplit_once(':')?;
                let (update_id, room_on) = rest.rsplit_once(':')?;
                IdemKey::VipPostInRoom {
                    posted_on: platform(on)?,
                    update_id: update_id.to_string(),
                    platform: platform(room_on)?,
                    room: room.to_string(),
                }
            }
            "join" => {
                let (on, update_id) = rest.split_once(':')?;
                IdemKey::JoinAnswer {
                    platform: platform(on)?,
                    update_id: update_id.to_string(),
                }
            }
            "vip-role" => IdemKey::VipRole {
                customer_id: rest.to_string(),
            },
            "consent-changed" => {
                let (purpose, rest) = rest.split_once(':')?;
                let (micros, customer_id) = rest.split_once(':')?;
                IdemKey::ConsentChanged {
                    purpose: purpose.to_string(),
                    given_at_micros: micros.parse().ok()?,
                    customer_id: customer_id.to_string(),
                }
            }
            "renotice" => {
                let (given_at, rest) = rest.split_once(':')?;
                let (periods, customer_id) = rest.split_once(':')?;
                IdemKey::ConsentRenotice {
                    given_at: given_at.parse().ok()?,
                    periods: periods.parse().ok()?,
                    customer_id: customer_id.to_string(),
                }
            }
            "engaged" => {
                let (broadcast_id, customer_id) = rest.split_once(':')?;
                IdemKey::EngagedThanks {
                    broadcast_id: broadcast_id.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "checkin" => IdemKey::Checkin {
                order_id: rest.to_string(),
            },
            "birthday" => {
                let (year, customer_id) = rest.split_once(':')?;
                IdemKey::Birthday {
                    year: year.parse().ok()?,
                    customer_id: customer_id.to_string(),
                }
            }
            "winback" => {
                let (last_activity, rest) = rest.split_once(':')?;
                let (attempt, customer_id) = rest.split_once(':')?;
                IdemKey::Winback {
                    last_activity: last_activity.parse().ok()?,
                    attempt: attempt.parse().ok()?,
                    customer_id: customer_id.to_string(),
                }
            }
            "welcome_back" => IdemKey::WelcomeBack {
                winback_key: rest.to_string(),
            },
            "digest" => {
                let (week, customer_id) = rest.split_once(':')?;
                IdemKey::Digest {
                    week: week.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "cart" => {
                let (cart_id, customer_id) = rest.split_once(':')?;
                IdemKey::CartReminder {
                    cart_id: cart_id.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            "poll" | "poll-close" | "poll-result" => {
                let (poll, rest) = rest.split_once(':')?;
                let (on, room) = rest.split_once(':')?;
                let (poll, platform, room) = (poll.parse().ok()?, platform(on)?, room.to_string());
                match head {
                    "poll" => IdemKey::PollPost {
                        poll,
                        platform,
                        room,
                    },
                    "poll-close" => IdemKey::PollClose {
                        poll,
                        platform,
                        room,
                    },
                    _ => IdemKey::PollResult {
                        poll,
                        platform,
                        room,
                    },
                }
            }
            "alert" => {
                let (stage, rest) = rest.split_once(':')?;
                let (broadcast_id, customer_id) = rest.split_once(':')?;
                IdemKey::NextLiveAlert {
                    stage: BroadcastStage::parse(stage)?,
                    broadcast_id: broadcast_id.to_string(),
                    customer_id: customer_id.to_string(),
                }
            }
            _ => return None,
        };
        Some(key)
    }

    /// The ticket a staff-chat message belongs to: its card or a relay.
    pub fn ticket(&self) -> Option<i64> {
        match self {
            IdemKey::TicketCard { ticket } | IdemKey::TicketRelay { ticket, .. } => Some(*ticket),
            _ => None,
        }
    }

    /// The ticket of a stored key, when it is a ticket's card or relay.
    pub fn ticket_of(key: &str) -> Option<i64> {
        IdemKey::parse(key)?.ticket()
    }

    /// The order a stored check-in key is about.
    pub fn checkin_order_of(key: &str) -> Option<String> {
        match IdemKey::parse(key)? {
            IdemKey::Checkin { order_id } => Some(order_id),
            _ => None,
        }
    }

    /// The order status a stored order-note key names (`delayed` for any delay date).
    pub fn order_note_status_of(key: &str) -> Option<String> {
        match IdemKey::parse(key)? {
            IdemKey::OrderNote { status, .. } => Some(status),
            _ => None,
        }
    }

    /// What every check-in key starts with; the order id follows (SQL joins orders on it).
    pub fn checkin_prefix() -> &'static str {
        CHECKIN
    }

    /// What every weekly letter of an ISO week starts with; the customer id follows.
    pub fn digest_prefix(week: &str) -> String {
        format!("digest:{week}:")
    }

    /// What every thank-you of a broadcast starts with; the customer id follows (one SQL
    /// statement writes them all).
    pub fn thank_you_prefix(broadcast_id: &str) -> String {
        format!("thank_you:{broadcast_id}:")
    }

    /// What every relay of a ticket starts with (a `LIKE` finds them all).
    pub fn ticket_relay_prefix(ticket: i64) -> String {
        format!("ticket_relay:{ticket}:")
    }

    /// What every staff copy of a feedback comment starts with.
    pub fn feedback_comment_prefix(feedback_id: i64) -> String {
        format!("feedback_comment:{feedback_id}:")
    }

    /// What every notice about a member's removed links starts with.
    pub fn link_notice_prefix(platform: &str, user_id: &str) -> String {
        format!("link-notice:{platform}:{user_id}:")
    }

    /// Every key about one mute: the mute, the lifting, the room notice and the staff note.
    pub fn keys_of_mute(mute_id: i64) -> [IdemKey; 4] {
        [
            IdemKey::Mute { mute_id },
            IdemKey::Unmute { mute_id },
            IdemKey::MuteNotice { mute_id },
            IdemKey::MuteStaff { mute_id },
        ]
    }

    /// A stored key that ends with the customer `from`, renamed to end with `to` (forgetting
    /// files it under the pseudonym, merging under the surviving id). `None` when it does not
    /// name `from` last.
    pub fn rename_customer(key: &str, from: &str, to: &str) -> Option<String> {
        let head = key.strip_suffix(from)?.strip_suffix(':')?;
        Some(format!("{head}:{to}"))
    }
}

impl fmt::Display for IdemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdemKey::ThankYou {
                broadcast_id,
                customer_id,
            } => write!(f, "thank_you:{broadcast_id}:{customer_id}"),
            IdemKey::OrderNote {
                status,
                delay_eta,
                order_id,
            } => match delay_eta {
                Some(eta) => write!(f, "order_note:{status}@{eta}:{order_id}"),
                None => write!(f, "order_note:{status}:{order_id}"),
            },
            IdemKey::Reply {
                platform,
                update_id,
                n,
            } => write!(f, "reply:{platform}:{update_id}:{n}"),
            IdemKey::FeedbackComment {
                feedback_id,
                platform,
                update_id,
            } => write!(f, "feedback_comment:{feedback_id}:{platform}:{update_id}"),
            IdemKey::FeedbackReflected { feedback_id } => write!(f, "reflected:{feedback_id}"),
            IdemKey::TicketCard { ticket } => write!(f, "ticket_card:{ticket}"),
            IdemKey::TicketRelay {
                ticket,
                platform,
                update_id,
            } => write!(f, "ticket_relay:{ticket}:{platform}:{update_id}"),
            IdemKey::StaffReply {
                platform,
                update_id,
            } => write!(f, "staff_reply:{platform}:{update_id}"),
            IdemKey::TicketClosed { ticket } => write!(f, "ticket_closed:{ticket}"),
            IdemKey::TicketReminder { ticket } => write!(f, "ticket_reminder:{ticket}"),
            IdemKey::TicketProgress { ticket } => write!(f, "ticket_progress:{ticket}"),
            IdemKey::TicketIdle { ticket } => write!(f, "ticket_idle:{ticket}"),
            IdemKey::Welcome {
                platform,
                room,
                first_member,
            } => write!(f, "welcome:{platform}:{room}:{first_member}"),
            IdemKey::Announcement {
                stage,
                broadcast_id,
                platform,
                room,
            } => write!(
                f,
                "announce:{}:{broadcast_id}:{platform}:{room}",
                stage.as_str()
            ),
            IdemKey::AnnouncementPin {
                stage,
                broadcast_id,
                platform,
                room,
            } => write!(f, "pin:{}:{broadcast_id}:{platform}:{room}", stage.as_str()),
            IdemKey::Delete {
                platform,
                room,
                message_id,
            } => write!(f, "delete:{platform}:{room}:{message_id}"),
            IdemKey::Mute { mute_id } => write!(f, "mute:{mute_id}"),
            IdemKey::Unmute { mute_id } => write!(f, "unmute:{mute_id}"),
            IdemKey::MuteNotice { mute_id } => write!(f, "mute-notice:{mute_id}"),
            IdemKey::MuteStaff { mute_id } => write!(f, "mute-staff:{mute_id}"),
            IdemKey::LinkNotice {
                platform,
                user_id,
                room,
                message_id,
            } => write!(f, "link-notice:{platform}:{user_id}:{room}:{message_id}"),
            IdemKey::Tier { tier, customer_id } => write!(f, "tier:{tier}:{customer_id}"),
            IdemKey::SharedCode { code, customer_id } => write!(f, "code:{code}:{customer_id}"),
            IdemKey::PoolCode {
                campaign,
                customer_id,
            } => write!(f, "code:pool:{campaign}:{customer_id}"),
            IdemKey::CodeInRoom {
                code,
                platform,
                room,
            } => write!(f, "code-room:{code}:{platform}:{room}"),
            IdemKey::VipPost {
                posted_on,
                update_id,
                customer_id,
            } => write!(f, "vippost:{posted_on}:{update_id}:{customer_id}"),
            IdemKey::VipPostInRoom {
                posted_on,
                update_id,
                platform,
                room,
            } => write!(f, "vippost-room:{posted_on}:{update_id}:{platform}:{room}"),
            IdemKey::JoinAnswer {
                platform,
                update_id,
            } => write!(f, "join:{platform}:{update_id}"),
            IdemKey::VipRole { customer_id } => write!(f, "vip-role:{customer_id}"),
            IdemKey::ConsentChanged {
                purpose,
                given_at_micros,
                customer_id,
            } => write!(
                f,
                "consent-changed:{purpose}:{given_at_micros}:{customer_id}"
            ),
            IdemKey::ConsentRenotice {
                given_at,
                periods,
                customer_id,
            } => write!(f, "renotice:{given_at}:{periods}:{customer_id}"),
            IdemKey::EngagedThanks {
                broadcast_id,
                customer_id,
            } => write!(f, "engaged:{broadcast_id}:{customer_id}"),
            IdemKey::Checkin { order_id } => write!(f, "{CHECKIN}{order_id}"),
            IdemKey::Birthday { year, customer_id } => {
                // As chrono's `%Y` wrote it: four digits.
                write!(f, "birthday:{year:04}:{customer_id}")
            }
            IdemKey::Winback {
                last_activity,
                attempt,
                customer_id,
            } => write!(f, "winback:{last_activity}:{attempt}:{customer_id}"),
            IdemKey::WelcomeBack { winback_key } => write!(f, "welcome_back:{winback_key}"),
            IdemKey::NextLiveAlert {
                stage,
                broadcast_id,
                customer_id,
            } => write!(f, "alert:{}:{broadcast_id}:{customer_id}", stage.as_str()),
            IdemKey::CartReminder {
                cart_id,
                customer_id,
            } => write!(f, "cart:{cart_id}:{customer_id}"),
            IdemKey::Digest { week, customer_id } => write!(f, "digest:{week}:{customer_id}"),
            IdemKey::PollPost {
                poll,
                platform,
                room,
            } => write!(f, "poll:{poll}:{platform}:{room}"),
            IdemKey::PollClose {
                poll,
                platform,
                room,
            } => write!(f, "poll-close:{poll}:{platform}:{room}"),
            IdemKey::PollResult {
                poll,
                platform,
                room,
            } => write!(f, "poll-result:{poll}:{platform}:{room}"),
        }
    }
}

/// A stored key that no version of encore wrote.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an outbox idempotency key encore writes")]
pub struct UnknownKey(pub String);

impl FromStr for IdemKey {
    type Err = UnknownKey;
    fn from_str(key: &str) -> Result<IdemKey, UnknownKey> {
        IdemKey::parse(key).ok_or_else(|| UnknownKey(key.to_string()))
    }
}

impl From<IdemKey> for String {
    fn from(key: IdemKey) -> String {
        key.to_string()
    }
}

#[cfg(test)]
mod tests;
