//! Tiers and what the best customers get: a tier recomputed whenever their orders change (a
//! promotion congratulated, with consent), the VIP room (a personal join-request link on
//! Telegram, the VIP role on Discord), VIP codes made by the shop's checkout (shared, or one
//! each from a pool), exclusive posts, and redemptions counted — a code used by someone it was
//! not sent to is a violation.
//!
//! Every message here is advertising (CONTRACT §6): the send gate checks consent and adds the
//! label; this flow only picks who is eligible.

use chrono::{DateTime, Duration, Utc};

use super::Effects;
use super::conversation::Conversation;
use crate::config::{Config, TierConfig};
use crate::domain::keys::IdemKey;
use crate::domain::tiers::{self, tier_for};
use crate::domain::{Flow, Lane, Platform};
use crate::outbox::{self, Envelope, Payload, Recipient};
use crate::platforms::ChatAction;
use crate::store::vip::{self as stored, CodeSend};
use crate::store::{Conn, StoreResult, customers};

fn rank(tiers: &[TierConfig], name: Option<&str>) -> Option<usize> {
    let name = name?;
    tiers.iter().position(|t| t.name == name)
}

fn to_customer(
    key: IdemKey,
    customer_id: &str,
    flow: Flow,
    payload: Payload,
    expires_at: Option<DateTime<Utc>>,
) -> Envelope {
    Envelope {
        key,
        to: Recipient::Customer(customer_id.to_string()),
        flow,
        lane: Lane::Bulk,
        payload,
        broadcast_id: None,
        expires_at,
    }
}

/// Recomputes the customer's tier after their orders changed. A promotion is congratulated
/// (advertising: the gate sends it only with consent) when `effects` says so; reaching the top
/// tier brings the way into the VIP room. Falling below a tier changes the stored tier only:
/// nobody is removed from the VIP room automatically.
pub async fn recompute_tier(
    config: &Config,
    conn: &mut Conn,
    customer_id: &str,
    effects: Effects,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (orders, spend) = stored::tier_basis(conn, customer_id, &config.shop.currency).await?;
    let new = tier_for(&config.tiers, orders, spend).map(str::to_string);
    let old = stored::stored_tier(conn, customer_id).await?;
    if new == old {
        return Ok(());
    }
    stored::set_tier(conn, customer_id, new.as_deref()).await?;
    let promoted = rank(&config.tiers, new.as_deref()) > rank(&config.tiers, old.as_deref());
    let Some(tier) = new.filter(|_| promoted && effects == Effects::Notify) else {
        return Ok(());
    };
    tracing::info!(tier = %tier, "a customer reached a new tier");
    // Several tiers at once (a batch of orders): only the highest is congratulated.
    crate::store::outbox::cancel_queued_of_flow(
        conn,
        customer_id,
        Flow::Tier.as_str(),
        "a higher tier was reached",
    )
    .await?;
    let payload = if Some(tier.as_str()) == tiers::vip_tier(&config.tiers) {
        Payload::VipWelcome { tier: tier.clone() }
    } else {
        Payload::text("tier-congratulation").arg("tier", tier.clone())
    };
    outbox::enqueue(
        conn,
        to_customer(
            IdemKey::Tier {
                tier: tier.clone(),
                customer_id: customer_id.to_string(),
            },
            customer_id,
            Flow::Tier,
            payload,
            None,
        ),
        now,
    )
    .await?;
    Ok(())
}

/// The tiers at or above `name`, if it is one.
fn tiers_from(config: &Config, name: &str) -> Option<Vec<String>> {
    let from = config
        .tiers
        .iter()
        .position(|t| t.name.eq_ignore_ascii_case(name))?;
    Some(
        config.tiers[from..]
            .iter()
            .map(|t| t.name.clone())
            .collect(),
    )
}

/// `expires=7d`, `expires=48h`: how long a code is good for.
pub fn parse_expiry(word: &str) -> Option<Duration> {
    let value = word.strip_prefix("expires=")?;
    let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "d" => Some(Duration::days(n)),
        "h" => Some(Duration::hours(n)),
        _ => None,
    }
}

/// What `/vipcode` was asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipCodeCommand {
    /// A shared code, or `pool=CAMPAIGN`.
    pub code: CodeSource,
    pub tier: String,
    pub expires_in: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    Shared(String),
    Pool(String),
}

/// `CODE TIER [expires=7d]` or `pool=CAMPAIGN TIER [expires=7d]`; a week unless told.
pub fn parse_vipcode(args: &str) -> Option<VipCodeCommand> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (code, tier, rest) = match words.as_slice() {
        [code, tier, rest @ ..] if rest.len() <= 1 => (*code, *tier, rest),
        _ => return None,
    };
    let expires_in = match rest.first() {
        Some(word) => parse_expiry(word)?,
        None => Duration::days(7),
    };
    let code = match code.strip_prefix("pool=") {
        Some("") => return None,
        Some(campaign) => CodeSource::Pool(campaign.to_string()),
        None => CodeSource::Shared(code.to_string()),
    };
    Some(VipCodeCommand {
        code,
        tier: tier.to_string(),
        expires_in,
    })
}

/// Staff `/vipcode`: the code to every consenting customer of that tier or higher, once each;
/// from a pool each gets their own, and staff hear when the pool ran out.
pub async fn send_codes(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    args: &str,
) -> StoreResult<()> {
    let Some(command) = parse_vipcode(args) else {
        return conv
            .reply_to_staff(conn, Payload::text("staff-usage-vipcode"))
            .await;
    };
    let config = conv.ctx.config.clone();
    let Some(tiers) = tiers_from(&config, &command.tier) else {
        let names = config
            .tiers
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return conv
            .reply_to_staff(
                conn,
                Payload::text("staff-unknown-tier")
                    .arg("tier", command.tier.clone())
                    .arg("tiers", names),
            )
            .await;
    };
    let now = conv.now;
    let expires_at = now + command.expires_in;
    let eligible = stored::consenting_customers_in_tiers(conn, &tiers).await?;
    let mut sent = 0_i64;
    let mut without_code = 0_i64;
    for (customer_id, tier) in &eligible {
        let (code, campaign, key) = match &command.code {
            CodeSource::Shared(code) => (
                code.clone(),
                None,
                IdemKey::SharedCode {
                    code: code.clone(),
                    customer_id: customer_id.clone(),
                },
            ),
            CodeSource::Pool(campaign) => {
                let key = IdemKey::PoolCode {
                    campaign: campaign.clone(),
                    customer_id: customer_id.clone(),
                };
                if crate::store::outbox::state_of(conn, &key).await?.is_some() {
                    continue;
                }
                match stored::assign_pool_code(conn, campaign, customer_id, now).await? {
                    Some(code) => (code, Some(campaign.as_str()), key),
                    None => {
                        without_code += 1;
                        continue;
                    }
                }
            }
        };
        let payload = Payload::text("vip-code")
            .arg("code", code.clone())
            .arg("tier", command.tier.clone())
            .arg(
                "until",
                crate::domain::policy::shop_day(expires_at, config.shop.timezone),
            );
        let new = outbox::enqueue(
            conn,
            to_customer(
                key.clone(),
                customer_id,
                Flow::VipCode,
                payload,
                Some(expires_at),
            ),
            now,
        )
        .await?;
        if new {
            stored::record_code_send(
                conn,
                &CodeSend {
                    code: &code,
                    campaign,
                    customer_id,
                    tier,
                    message_key: &key,
                    expires_at: Some(expires_at),
                },
                now,
            )
            .await?;
            sent += 1;
        }
    }
    if let CodeSource::Shared(code) = &command.code {
        // The VIP room hears about a shared code too.
        for (platform, room) in conv.ctx.roles.vip_rooms() {
            let post = Payload::text("vip-room-code")
                .arg("code", code.clone())
                .arg("tier", command.tier.clone())
                .in_lang(config.shop.default_locale);
            let envelope = Envelope {
                key: IdemKey::CodeInRoom {
                    code: code.clone(),
                    platform,
                    room: room.clone(),
                },
                to: Recipient::Chat {
                    platform,
                    chat_id: room,
                },
                flow: Flow::VipCode,
                lane: Lane::Bulk,
                payload: post,
                broadcast_id: None,
                expires_at: Some(expires_at),
            };
            outbox::enqueue(conn, envelope, now).await?;
        }
    }
    let tier = command.tier.clone();
    conv.reply_to_staff(
        conn,
        Payload::text("staff-vipcode-sent")
            .arg("count", sent)
            .arg("tier", tier),
    )
    .await?;
    if let CodeSource::Pool(campaign) = &command.code
        && without_code > 0
    {
        conv.reply_to_staff(
            conn,
            Payload::text("staff-pool-empty")
                .arg("campaign", campaign.clone())
                .arg("missing", without_code),
        )
        .await?;
        tracing::warn!(%campaign, without_code, "a code pool ran out");
    }
    Ok(())
}

/// Staff `/vippost text…`: posted in the VIP room, and sent to VIP members who are not in it
/// (checked when it goes out), once each.
pub async fn post(conv: &mut Conversation<'_>, conn: &mut Conn, text: &str) -> StoreResult<()> {
    let text = text.trim();
    if text.is_empty() {
        return conv
            .reply_to_staff(conn, Payload::text("staff-usage-vippost"))
            .await;
    }
    let config = conv.ctx.config.clone();
    let Some(vip) = tiers::vip_tier(&config.tiers) else {
        return conv
            .reply_to_staff(conn, Payload::text("staff-vippost-no-tiers"))
            .await;
    };
    let now = conv.now;
    for (platform, room) in conv.ctx.roles.vip_rooms() {
        let envelope = Envelope {
            key: IdemKey::VipPostInRoom {
                posted_on: conv.incoming.platform,
                update_id: conv.incoming.update_id.clone(),
                platform,
                room: room.clone(),
            },
            to: Recipient::Chat {
                platform,
                chat_id: room,
            },
            flow: Flow::VipPost,
            lane: Lane::Bulk,
            payload: Payload::text("vip-post")
                .arg("text", text.to_string())
                .in_lang(config.shop.default_locale),
            broadcast_id: None,
            expires_at: None,
        };
        outbox::enqueue(conn, envelope, now).await?;
    }
    let members = stored::consenting_customers_in_tiers(conn, &[vip.to_string()]).await?;
    for (customer_id, _) in &members {
        outbox::enqueue(
            conn,
            to_customer(
                IdemKey::VipPost {
                    posted_on: conv.incoming.platform,
                    update_id: conv.incoming.update_id.clone(),
                    customer_id: customer_id.clone(),
                },
                customer_id,
                Flow::VipPost,
                Payload::VipPost {
                    text: text.to_string(),
                },
                None,
            ),
            now,
        )
        .await?;
    }
    conv.reply_to_staff(
        conn,
        Payload::text("staff-vippost-sent").arg("count", members.len() as i64),
    )
    .await
}

/// A request to join the VIP room (Telegram): approved only through the requester's own
/// personal link, from the account linked to that customer; declined otherwise, so a
/// forwarded link lets nobody else in.
pub async fn join_requested(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    invite_link: Option<&str>,
) -> StoreResult<()> {
    let incoming = conv.incoming;
    let platform = incoming.platform;
    let owner = match invite_link {
        Some(link) => stored::vip_access_by_link(conn, platform.as_str(), link).await?,
        None => None,
    };
    let requester = customers::identity(conn, platform, &incoming.user_id).await?;
    let approved = match (&owner, &requester) {
        (Some(owner), Some(requester)) => owner.customer_id == requester.customer_id,
        _ => false,
    };
    let action = if approved {
        ChatAction::ApproveJoin {
            user_id: incoming.user_id.clone(),
        }
    } else {
        ChatAction::DeclineJoin {
            user_id: incoming.user_id.clone(),
        }
    };
    if let (true, Some(owner)) = (approved, &owner) {
        stored::mark_granted(conn, &owner.customer_id, platform.as_str(), conv.now).await?;
    }
    tracing::info!(%platform, approved, "a VIP room join request was answered");
    let envelope = Envelope {
        key: IdemKey::JoinAnswer {
            platform,
            update_id: incoming.update_id.clone(),
        },
        to: Recipient::Thread {
            platform,
            chat_id: incoming.chat_id.clone(),
            thread: "actions".to_string(),
        },
        flow: Flow::VipRoom,
        lane: Lane::Interactive,
        payload: Payload::Act { action },
        broadcast_id: None,
        expires_at: None,
    };
    outbox::enqueue(conn, envelope, conv.now).await?;
    Ok(())
}

/// A VIP who was sent a guild invite joined the Discord guild: the VIP role follows.
pub async fn joined_guild(
    config: &Config,
    conn: &mut Conn,
    user_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(discord) = &config.discord else {
        return Ok(());
    };
    let (Some(guild), Some(role)) = (discord.guild_id, discord.vip_role_id) else {
        return Ok(());
    };
    let Some(identity) = customers::identity(conn, Platform::Discord, user_id).await? else {
        return Ok(());
    };
    let access = stored::vip_access(conn, &identity.customer_id, "discord").await?;
    if access.is_none_or(|a| a.granted_at.is_some()) {
        return Ok(());
    }
    stored::mark_granted(conn, &identity.customer_id, "discord", now).await?;
    let envelope = Envelope {
        key: IdemKey::VipRole {
            customer_id: identity.customer_id.clone(),
        },
        to: Recipient::Thread {
            platform: Platform::Discord,
            chat_id: guild.to_string(),
            thread: "actions".to_string(),
        },
        flow: Flow::VipRoom,
        lane: Lane::Interactive,
        payload: Payload::Act {
            action: ChatAction::GrantRole {
                user_id: user_id.to_string(),
                role_id: role.to_string(),
            },
        },
        broadcast_id: None,
        expires_at: None,
    };
    outbox::enqueue(conn, envelope, now).await?;
    Ok(())
}

/// `code.pool_added` and `encore import codes`: codes made by the shop's checkout.
pub async fn add_codes(
    conn: &mut Conn,
    campaign: &str,
    codes: &[String],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    stored::add_to_pool(conn, campaign, codes, now).await
}

/// `code.redeemed`: counted; a customer the code was not sent to is a violation.
pub async fn code_redeemed(
    conn: &mut Conn,
    event_id: &str,
    code: &str,
    customer_id: &str,
    order_id: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let violation =
        stored::record_redemption(conn, event_id, code, customer_id, order_id, at).await?;
    if violation {
        tracing::warn!(
            event_id,
            "a code was redeemed by a customer it was not sent to"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vipcode_reads_a_shared_code_or_a_pool_with_an_optional_expiry() {
        assert_eq!(
            parse_vipcode("WINTER gold"),
            Some(VipCodeCommand {
                code: CodeSource::Shared("WINTER".into()),
                tier: "gold".into(),
                expires_in: Duration::days(7),
            })
        );
        assert_eq!(
            parse_vipcode("pool=xmas vip expires=48h"),
            Some(VipCodeCommand {
                code: CodeSource::Pool("xmas".into()),
                tier: "vip".into(),
                expires_in: Duration::hours(48),
            })
        );
        assert_eq!(parse_vipcode("WINTER"), None);
        assert_eq!(parse_vipcode("pool= gold"), None);
        assert_eq!(parse_vipcode("WINTER gold expires=soon"), None);
        assert_eq!(parse_vipcode("WINTER gold expires=0d"), None);
    }
}
