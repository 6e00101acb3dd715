//! The router: one incoming update → the flow that answers it, in one transaction with the
//! record that the update was processed (so a re-delivered update changes nothing).
//!
//! Viewer messages follow CONTRACT §4's precedence; in this version: a command, else "I did not
//! find that" with the help menu. Group chats: only staff commands in the staff chat.

use crate::app::AppContext;
use crate::flows::linking::{self, Conversation};
use crate::flows::staff;
use crate::outbox::Payload;
use crate::platforms::{Incoming, IncomingContent};
use crate::store::customers;
use crate::store::{Conn, StoreError, StoreResult, events};

/// A command as typed: `/ended@encore_bot b-1` → ("ended", "b-1"). The adapter has already
/// dropped commands addressed to other bots and removed our own name.
pub fn parse_command(text: &str) -> Option<(String, String)> {
    let rest = text.trim_start().strip_prefix('/')?;
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    Some((name, args.trim().to_string()))
}

pub async fn handle(ctx: &AppContext, incoming: &Incoming) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin().await?;
    if !events::record_update(&mut tx, incoming.platform, &incoming.update_id, now).await? {
        tracing::debug!(platform = %incoming.platform, update_id = %incoming.update_id, "update seen before; ignored");
        return Ok(());
    }
    // Writing to the bot clears "unreachable" and makes this the most recent platform.
    customers::touch_identity(&mut tx, incoming.platform, &incoming.user_id, now).await?;
    let mut conv = Conversation::new(ctx, incoming, now);
    if incoming.chat_is_private {
        viewer(&mut conv, &mut tx).await?;
    } else if ctx.is_staff_chat(incoming.platform, &incoming.chat_id) {
        staff_chat(&mut conv, &mut tx).await?;
    }
    tx.commit().await?;
    ctx.outbox.wake();
    Ok(())
}

async fn viewer(conv: &mut Conversation<'_>, conn: &mut Conn) -> StoreResult<()> {
    let incoming = conv.incoming;
    let identity = customers::identity(conn, incoming.platform, &incoming.user_id).await?;
    let customer_id = identity.as_ref().map(|i| i.customer_id.clone());
    let lang = match &customer_id {
        Some(id) => match customers::customer(conn, id).await? {
            Some(c) => {
                customers::language_of(&c, identity.as_ref(), conv.ctx.config.shop.default_locale)
            }
            None => conv.platform_lang(),
        },
        None => conv.platform_lang(),
    };
    let customer = customer_id.as_deref();
    let text = match &incoming.content {
        IncomingContent::Button { data } => {
            if data.starts_with("consent:") {
                linking::consent_button(conv, conn, data).await?;
            }
            return Ok(());
        }
        IncomingContent::Text(text) => text,
    };
    let Some((command, args)) = parse_command(text) else {
        return conv
            .reply(conn, customer, Payload::text("not-understood"))
            .await;
    };
    match command.as_str() {
        "start" | "link" if !args.is_empty() => {
            let token = args.split_whitespace().next().unwrap_or_default();
            linking::link_with_token(conv, conn, token).await
        }
        "start" | "link" => {
            let id = if customer.is_some() {
                "start-linked"
            } else {
                "start-greeting"
            };
            let shop = conv.ctx.config.shop.name.clone();
            conv.reply(conn, customer, Payload::text(id).arg("shop", shop))
                .await
        }
        "stop" => linking::stop(conv, conn, customer, lang).await,
        "unlink" => linking::unlink(conv, conn, lang).await,
        "lang" => linking::set_language(conv, conn, customer, args.split_whitespace().next()).await,
        "help" => conv.reply(conn, customer, Payload::text("help-menu")).await,
        _ => {
            conv.reply(conn, customer, Payload::text("unknown-command"))
                .await
        }
    }
}

async fn staff_chat(conv: &mut Conversation<'_>, conn: &mut Conn) -> StoreResult<()> {
    let IncomingContent::Text(text) = &conv.incoming.content else {
        return Ok(());
    };
    let Some((command, args)) = parse_command(text) else {
        return Ok(());
    };
    if !staff::is_staff_command(&command) {
        return Ok(());
    }
    let authorised = conv.ctx.is_staff_member(conv.incoming);
    staff::run(conv, conn, &command, &args, authorised).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_may_carry_the_bots_name_and_arguments() {
        assert_eq!(
            parse_command("/ended@encore_bot b-1"),
            Some(("ended".into(), "b-1".into()))
        );
        assert_eq!(
            parse_command("/START abc"),
            Some(("start".into(), "abc".into()))
        );
        assert_eq!(
            parse_command("/delay b-1 2026-12-01 비가 와서"),
            Some(("delay".into(), "b-1 2026-12-01 비가 와서".into()))
        );
        assert_eq!(parse_command("hello"), None);
        assert_eq!(parse_command("/"), None);
    }
}
