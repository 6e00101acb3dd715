//! A viewer's own commands in a direct chat: linking their messenger to their shop account
//! (`/start <token>`, `/link <token>`), consent buttons, `/stop`, `/unlink`, `/lang`, `/help`.

use chrono::{DateTime, Utc};

use super::after_broadcast::send_missed_thank_yous;
pub use super::conversation::Conversation;
use crate::context::AppContext;
use crate::domain::Lang;
use crate::events_out;
use crate::i18n::Arg;
use crate::outbox::{ButtonSpec, Payload};
use crate::store::customers::{self, ConsentEntry, ConsentPurpose, NewIdentity, TokenUse};
use crate::store::{Conn, StoreError, StoreResult};

/// Callback data of the consent buttons (≤ 64 bytes, CONTRACT §9).
pub const MARKETING_YES: &str = "consent:marketing:yes";
pub const MARKETING_NO: &str = "consent:marketing:no";
pub const NIGHT_YES: &str = "consent:night:yes";
pub const NIGHT_NO: &str = "consent:night:no";

fn agree_decline(agree: &str, decline: &str) -> Vec<Vec<ButtonSpec>> {
    // Agree first, decline second (CONTRACT §4).
    vec![vec![
        ButtonSpec {
            label: "button-agree".to_string(),
            data: agree.to_string(),
        },
        ButtonSpec {
            label: "button-decline".to_string(),
            data: decline.to_string(),
        },
    ]]
}

/// `/start` or `/link` with a token: links the account, says what encore will send, asks for
/// marketing consent, then sends the thank-yous of the last 14 days the viewer missed.
pub async fn link_with_token(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    token: &str,
) -> StoreResult<()> {
    let incoming = conv.incoming;
    let customer_id = match customers::use_link_token(conn, token, conv.now).await? {
        TokenUse::Linked { customer_id } => customer_id,
        TokenUse::Unknown => {
            return conv
                .reply(conn, None, Payload::text("link-token-unknown"))
                .await;
        }
        TokenUse::Expired => {
            return conv
                .reply(conn, None, Payload::text("link-token-expired"))
                .await;
        }
        TokenUse::AlreadyUsed => {
            return conv
                .reply(conn, None, Payload::text("link-token-used"))
                .await;
        }
    };
    let change = customers::link_identity(
        conn,
        &customer_id,
        &NewIdentity {
            platform: incoming.platform,
            user_id: &incoming.user_id,
            chat_id: &incoming.chat_id,
            display_name: incoming.user_name.as_deref(),
            platform_lang: incoming.user_lang.as_deref(),
        },
        conv.now,
    )
    .await?;
    if change.moved_from.is_some() {
        conv.reply(conn, Some(&customer_id), Payload::text("link-moved"))
            .await?;
    }
    let name = customers::customer(conn, &customer_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    conv.reply(
        conn,
        Some(&customer_id),
        Payload::text("link-welcome")
            .arg("name", name)
            .arg("shop", conv.shop()),
    )
    .await?;
    conv.reply(
        conn,
        Some(&customer_id),
        Payload::text("consent-marketing-ask")
            .arg("shop", conv.shop())
            .buttons(agree_decline(MARKETING_YES, MARKETING_NO)),
    )
    .await?;
    send_missed_thank_yous(conn, &customer_id, conv.now).await?;
    Ok(())
}

/// A press on one of the consent buttons: recorded with time, source and the exact words the
/// viewer was shown, confirmed with the shop's name and the date.
pub async fn consent_button(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    data: &str,
) -> StoreResult<()> {
    let Some(identity) =
        customers::identity(conn, conv.incoming.platform, &conv.incoming.user_id).await?
    else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    let customer_id = identity.customer_id.clone();
    let Some(customer) = customers::customer(conn, &customer_id).await? else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    let lang = customers::language_of(
        &customer,
        Some(&identity),
        conv.ctx.config.shop.default_locale,
    );
    let (purpose, granted, asked_with) = match data {
        MARKETING_YES => (ConsentPurpose::Marketing, true, "consent-marketing-ask"),
        MARKETING_NO => (ConsentPurpose::Marketing, false, "consent-marketing-ask"),
        NIGHT_YES => (ConsentPurpose::Night, true, "consent-night-ask"),
        NIGHT_NO => (ConsentPurpose::Night, false, "consent-night-ask"),
        _ => return Ok(()),
    };
    if purpose == ConsentPurpose::Night && granted {
        let marketing =
            customers::latest_consent(conn, &customer_id, ConsentPurpose::Marketing).await?;
        if !marketing.is_some_and(|m| m.granted) {
            // Night-time advertising only makes sense on top of marketing consent.
            return conv
                .reply(
                    conn,
                    Some(&customer_id),
                    Payload::text("consent-night-needs-marketing"),
                )
                .await;
        }
    }
    let wording = conv
        .ctx
        .texts
        .render(
            lang,
            asked_with,
            &[
                ("shop", Arg::from(conv.shop())),
                ("hours", Arg::from(conv.quiet_hours())),
            ],
        )
        .map_err(|err| StoreError::Corrupt(format!("consent wording cannot be rendered: {err}")))?;
    let entry = ConsentEntry {
        purpose,
        granted,
        given_at: conv.now,
        source: conv.incoming.platform.to_string(),
        wording,
        method: "button".to_string(),
    };
    customers::record_consent(conn, &customer_id, &entry, conv.now).await?;
    events_out::consent_changed(conn, &conv.ctx.config, &customer_id, &entry, conv.now).await?;
    let confirmation = match (purpose, granted) {
        (ConsentPurpose::Marketing, true) => "consent-marketing-yes-confirm",
        (ConsentPurpose::Marketing, false) => "consent-marketing-no-confirm",
        (ConsentPurpose::Night, true) => "consent-night-yes-confirm",
        (ConsentPurpose::Night, false) => "consent-night-no-confirm",
    };
    let date = conv.today(lang);
    conv.reply(
        conn,
        Some(&customer_id),
        Payload::text(confirmation)
            .arg("shop", conv.shop())
            .arg("date", date)
            .arg("hours", conv.quiet_hours()),
    )
    .await?;
    if purpose == ConsentPurpose::Marketing && granted {
        // Only after a yes: the night-time question, buttons in the same order.
        conv.reply(
            conn,
            Some(&customer_id),
            Payload::text("consent-night-ask")
                .arg("shop", conv.shop())
                .arg("hours", conv.quiet_hours())
                .buttons(agree_decline(NIGHT_YES, NIGHT_NO)),
        )
        .await?;
    }
    Ok(())
}

/// `/stop`: withdraws marketing and night consent at once, cancels queued advertising,
/// confirms with the shop's name and the date. Transactional notes continue.
pub async fn stop(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
    lang: Lang,
) -> StoreResult<()> {
    let Some(customer_id) = customer_id else {
        return conv.reply(conn, None, Payload::text("not-linked")).await;
    };
    for purpose in [ConsentPurpose::Marketing, ConsentPurpose::Night] {
        let entry = ConsentEntry {
            purpose,
            granted: false,
            given_at: conv.now,
            source: conv.incoming.platform.to_string(),
            wording: "/stop".to_string(),
            method: "command".to_string(),
        };
        customers::record_consent(conn, customer_id, &entry, conv.now).await?;
        events_out::consent_changed(conn, &conv.ctx.config, customer_id, &entry, conv.now).await?;
    }
    crate::store::outbox::cancel_advertising_on_stop(conn, customer_id).await?;
    let date = conv.today(lang);
    conv.reply(
        conn,
        Some(customer_id),
        Payload::text("stop-confirm")
            .arg("shop", conv.shop())
            .arg("date", date),
    )
    .await
}

/// `/unlink`: detaches this account; the confirmation goes to this chat in the viewer's language.
pub async fn unlink(conv: &mut Conversation<'_>, conn: &mut Conn, lang: Lang) -> StoreResult<()> {
    let removed =
        customers::unlink_identity(conn, conv.incoming.platform, &conv.incoming.user_id).await?;
    let id = if removed.is_some() {
        "unlink-done"
    } else {
        "not-linked"
    };
    conv.reply(
        conn,
        None,
        Payload::text(id).arg("shop", conv.shop()).in_lang(lang),
    )
    .await
}

/// `/lang ko|en`: the viewer's language wins over everything else.
pub async fn set_language(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    customer_id: Option<&str>,
    arg: Option<&str>,
) -> StoreResult<()> {
    let Some(lang) = arg.and_then(|a| a.parse::<Lang>().ok()) else {
        return conv
            .reply(conn, customer_id, Payload::text("lang-usage"))
            .await;
    };
    match customer_id {
        Some(id) => {
            customers::set_lang_override(conn, id, lang).await?;
            conv.reply(conn, Some(id), Payload::text("lang-set")).await
        }
        None => {
            conv.reply(conn, None, Payload::text("lang-set").in_lang(lang))
                .await
        }
    }
}

/// How long a link token stays good.
pub const LINK_TOKEN_DAYS: i64 = 7;

/// What the shop shows a buyer so they can connect their messenger.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkInvitation {
    pub token: String,
    pub telegram_url: Option<String>,
    pub discord_command: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A single-use link token: 16 random bytes as 22 characters of base64url (CONTRACT §9).
/// `None` when the customer is unknown or forgotten.
pub async fn create_link_token(
    ctx: &AppContext,
    customer_id: &str,
) -> StoreResult<Option<LinkInvitation>> {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = ctx.clock.now();
    let expires_at = now + chrono::Duration::days(LINK_TOKEN_DAYS);
    let mut tx = ctx.store.begin().await?;
    // What is kept of a forgotten customer (their pseudonym) is nobody to link to.
    if !customers::customer_exists(&mut tx, customer_id).await?
        || crate::store::privacy::is_pseudonym(&mut tx, customer_id).await?
    {
        return Ok(None);
    }
    customers::create_link_token(&mut tx, &token, customer_id, now, expires_at).await?;
    tx.commit().await?;
    let telegram_url = match (&ctx.config.telegram, ctx.telegram_username.get()) {
        (Some(_), Some(username)) => Some(format!("https://t.me/{username}?start={token}")),
        _ => None,
    };
    let discord_command = ctx.discord_running.then(|| format!("/link {token}"));
    Ok(Some(LinkInvitation {
        token,
        telegram_url,
        discord_command,
        expires_at,
    }))
}
