//! Staff commands in the staff chat (CONTRACT §4): only from `staff_user_ids`, or on Telegram
//! an anonymous admin posting as the staff chat itself. Anyone else gets a polite refusal and
//! nothing happens.

use chrono::NaiveDate;

use super::after_broadcast::thank_buyers_after_broadcast;
use super::linking::Conversation;
use super::order_notes::delay_broadcast_orders;
use crate::domain::events::MAX_TEXT_CHARS;
use crate::domain::trust::Cause;
use crate::outbox::Payload;
use crate::store::{Conn, StoreResult};

/// The staff commands (CONTRACT §4).
pub const STAFF_COMMANDS: [&str; 12] = [
    "ended",
    "delay",
    "report",
    "reply",
    "close",
    "reflected",
    "vipcode",
    "vippost",
    "unmute",
    "changed",
    "poll",
    "pollclose",
];

pub fn is_staff_command(command: &str) -> bool {
    STAFF_COMMANDS.contains(&command)
}

pub async fn run(
    conv: &mut Conversation<'_>,
    conn: &mut Conn,
    command: &str,
    args: &str,
    authorised: bool,
) -> StoreResult<()> {
    if !authorised {
        return conv
            .reply_to_staff(conn, Payload::text("staff-refused"))
            .await;
    }
    let mut words = args.split_whitespace();
    match command {
        "ended" => {
            let Some(broadcast_id) = words.next() else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-ended"))
                    .await;
            };
            let thanked = thank_buyers_after_broadcast(
                &conv.ctx.config,
                conn,
                broadcast_id,
                None,
                conv.now,
                conv.now,
            )
            .await?;
            conv.reply_to_staff(
                conn,
                Payload::text("staff-ended")
                    .arg("broadcast", broadcast_id)
                    .arg("count", thanked as i64),
            )
            .await
        }
        "delay" => {
            let broadcast_id = words.next();
            let date = words
                .next()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let reason = words.collect::<Vec<_>>().join(" ");
            let (Some(broadcast_id), Some(date), false) = (broadcast_id, date, reason.is_empty())
            else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-delay"))
                    .await;
            };
            let count = delay_broadcast_orders(
                &conv.ctx.config,
                conn,
                broadcast_id,
                date,
                &reason,
                conv.now,
            )
            .await?;
            conv.reply_to_staff(
                conn,
                Payload::text("staff-delayed")
                    .arg("broadcast", broadcast_id)
                    .arg("count", count as i64)
                    .arg("date", date.to_string()),
            )
            .await
        }
        "reply" => {
            let ticket = words
                .next()
                .and_then(|t| t.trim_start_matches('#').parse::<i64>().ok());
            let text = words.collect::<Vec<_>>().join(" ");
            let (Some(ticket), false) = (ticket, text.is_empty()) else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-reply"))
                    .await;
            };
            super::handoff::staff_reply(conv, conn, ticket, &text, None).await
        }
        "close" => {
            let Some(ticket) = words
                .next()
                .and_then(|t| t.trim_start_matches('#').parse::<i64>().ok())
            else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-close"))
                    .await;
            };
            super::handoff::close(conv, conn, ticket).await
        }
        "reflected" => {
            let target = words.next();
            let note = words.collect::<Vec<_>>().join(" ");
            let (Some(target), false) = (target, note.is_empty()) else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-reflected"))
                    .await;
            };
            super::feedback::reflected(conv, conn, target, &note).await
        }
        "report" => {
            let Some(broadcast_id) = words.next() else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-report"))
                    .await;
            };
            // The words and the chart are written when the message goes out (render.rs); here
            // only whether there is a report to write, not the report itself.
            let payload = if crate::store::report::broadcast_is_known(conn, broadcast_id).await? {
                Payload::Report {
                    broadcast_id: broadcast_id.to_string(),
                }
            } else {
                Payload::text("staff-report-unknown").arg("broadcast", broadcast_id)
            };
            conv.reply_to_staff(conn, payload).await
        }
        "vipcode" => super::vip::send_codes(conv, conn, args).await,
        "vippost" => super::vip::post(conv, conn, args).await,
        "unmute" => super::community::unmute(conv, conn, args).await,
        "changed" => {
            // The note keeps the lines staff wrote it in; only the cause is a word.
            let (cause, note) = args
                .trim_start()
                .split_once(char::is_whitespace)
                .map_or((args.trim(), ""), |(cause, note)| (cause, note.trim()));
            let cause = cause.parse::<Cause>().ok();
            let note = note.to_string();
            let (Some(cause), false) = (cause, note.is_empty()) else {
                return conv
                    .reply_to_staff(conn, Payload::text("staff-usage-changed"))
                    .await;
            };
            let chars = note.chars().count();
            if chars > MAX_TEXT_CHARS {
                return conv
                    .reply_to_staff(
                        conn,
                        Payload::text("staff-changed-too-long")
                            .arg("max", MAX_TEXT_CHARS as i64)
                            .arg("chars", chars as i64),
                    )
                    .await;
            }
            crate::store::trust::record_change(conn, cause, &note, conv.now).await?;
            conv.reply_to_staff(
                conn,
                Payload::text("staff-changed")
                    .arg("cause", cause.as_str())
                    .arg("note", note),
            )
            .await
        }
        "poll" => super::polls::ask(conv, conn, args).await,
        "pollclose" => super::polls::close(conv, conn, args).await,
        _ => Ok(()),
    }
}
