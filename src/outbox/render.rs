//! Turns a payload into words at send time, from the current state of the store (DESIGN
//! invariant 4): a thank-you queued an hour ago names the order's status now.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use super::{ButtonSpec, Payload, ReplyTo, TextArg, rating_buttons};

/// Callback data prefix of the thank-you's rating buttons: `rate:<outbox id>:<1-5>`.
pub const RATE_THANK_YOU: &str = "rate";
/// Callback data prefix of a check-in's rating buttons: `rate-checkin:<outbox id>:<1-5>`.
pub const RATE_CHECKIN: &str = "rate-checkin";
use super::access::RoomAccess;
use crate::config::Config;
use crate::domain::alimtalk;
use crate::domain::polls::VoteButton;
use crate::domain::{Lang, OrderStatus, Platform};
use crate::i18n::{Arg, I18nError, Texts};
use crate::platforms::{Attachment, Button, NativePoll, OutgoingMessage, TemplateMessage};
use crate::store::customers::Customer;
use crate::store::orders::{self, Order};
use crate::store::{Conn, StoreError};
use crate::store::{polls, rooms, vip};

/// Why a thank-you says nothing.
const NOTHING_TO_THANK_FOR: &str = "every order of this broadcast was cancelled or refunded";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Text(#[from] I18nError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("message payload is damaged: {0}")]
    BadPayload(String),
}

/// What to do with a message, now that it is about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Send(OutgoingMessage),
    /// Nothing left to say (every order of a thank-you was cancelled, the order vanished).
    Nothing(String),
}

pub struct Renderer {
    texts: Arc<Texts>,
    shop_name: String,
    shop_contact: String,
    /// Times a viewer reads (their consent records in `/mydata`) are the shop's local time.
    timezone: chrono_tz::Tz,
    /// `policy.handoff_first_response_hours`, which the report's hand-off counts are held to.
    promise_hours: i64,
    /// The report's come-back windows are open or complete as of now.
    clock: Arc<dyn crate::clock::Clock>,
}

/// One message about to be written.
pub struct Rendering<'a> {
    /// The outbox row's id: buttons that must find their message again (the thank-you's rating
    /// buttons) carry it, as it fits in Telegram's 64-byte callback data.
    pub message_id: i64,
    pub payload: &'a Payload,
    pub customer: Option<&'a Customer>,
    pub lang: Lang,
    /// Advertising carries the label, the shop and its contact, and the opt-out line.
    pub advertising: bool,
    pub platform: Platform,
    /// The chat a message to a room goes to, as enqueued.
    pub chat_id: Option<&'a str>,
    /// The way into the VIP room, for the messages that offer it.
    pub room_access: Option<&'a RoomAccess>,
}

/// What a batch of messages is written from, read for the whole batch at once ([`Facts::read`]).
#[derive(Debug, Default)]
struct Facts {
    /// The buyer's orders in the broadcast, oldest first, by `(customer, broadcast)`: what a
    /// thank-you names.
    bought: HashMap<(String, String), Vec<Order>>,
    /// The broadcasts' titles (`None`: known, without a title).
    titles: HashMap<String, Option<String>>,
    /// The orders that order notes and check-ins are about, by id.
    orders: HashMap<String, Order>,
}

impl Facts {
    /// Reads, inside the rendering transaction, what the batch's thank-yous, order notes and
    /// check-ins need: at most five queries, however many messages.
    async fn read(conn: &mut Conn, batch: &[Rendering<'_>]) -> Result<Facts, StoreError> {
        let mut thanked: Vec<(&str, &str)> = Vec::new();
        let mut order_ids: Vec<&str> = Vec::new();
        for what in batch {
            match (what.payload, what.customer) {
                (Payload::ThankYou { broadcast_id }, Some(customer)) => {
                    thanked.push((customer.id.as_str(), broadcast_id.as_str()));
                }
                (Payload::OrderNote { order_id, .. } | Payload::Checkin { order_id }, _) => {
                    order_ids.push(order_id.as_str());
                }
                _ => {}
            }
        }
        let mut facts = Facts::default();
        if !thanked.is_empty() {
            for order in orders::orders_in_broadcasts(conn, &thanked).await? {
                let broadcast = order.broadcast_id.clone().unwrap_or_default();
                facts
                    .bought
                    .entry((order.customer_id.clone(), broadcast))
                    .or_default()
                    .push(order);
            }
            let mut broadcasts: Vec<&str> = thanked.iter().map(|(_, b)| *b).collect();
            broadcasts.sort_unstable();
            broadcasts.dedup();
            for broadcast in orders::broadcasts(conn, &broadcasts).await? {
                facts.titles.insert(broadcast.id, broadcast.title);
            }
        }
        if !order_ids.is_empty() {
            for order in orders::orders_with_ids(conn, &order_ids).await? {
                facts.orders.insert(order.id.clone(), order);
            }
        }
        Ok(facts)
    }
}

impl Renderer {
    pub fn new(
        texts: Arc<Texts>,
        config: &Config,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Renderer {
        Renderer {
            texts,
            shop_name: config.shop.name.clone(),
            shop_contact: config.shop.contact.clone(),
            timezone: config.shop.timezone,
            promise_hours: i64::from(config.policy.handoff_first_response_hours),
            clock,
        }
    }

    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// Writes a batch of messages inside one transaction, `conn`. What the batch's thank-yous,
    /// order notes and check-ins are written from (orders with their items, broadcast titles) is
    /// read for all of them first, a query per kind of fact rather than per message. One answer
    /// per message, in order; `Err` when reading the batch's facts failed.
    pub async fn render_all(
        &self,
        conn: &mut Conn,
        batch: &[Rendering<'_>],
    ) -> Result<Vec<Result<Rendered, RenderError>>, StoreError> {
        let facts = Facts::read(conn, batch).await?;
        let mut rendered = Vec::with_capacity(batch.len());
        for what in batch {
            rendered.push(self.render(conn, what, &facts).await);
        }
        Ok(rendered)
    }

    async fn render(
        &self,
        conn: &mut Conn,
        what: &Rendering<'_>,
        facts: &Facts,
    ) -> Result<Rendered, RenderError> {
        // KakaoTalk carries approved templates only, filled with variables (never advertising).
        if what.platform == Platform::Kakao {
            return self.as_template(what, facts);
        }
        let rendered = self.body(conn, what, facts).await?;
        match rendered {
            Rendered::Send(message) if what.advertising => {
                Ok(Rendered::Send(self.labelled(message, what.lang)?))
            }
            other => Ok(other),
        }
    }

    /// CONTRACT §6: advertising starts with exactly `(광고)` (`[Ad]`) and the shop and its
    /// contact, and ends with the free opt-out line. Plain text, so no tag ever comes first.
    fn labelled(
        &self,
        mut message: OutgoingMessage,
        lang: Lang,
    ) -> Result<OutgoingMessage, I18nError> {
        let head = self.texts.render(
            lang,
            "ad-label",
            &[
                ("shop", self.shop_name.as_str().into()),
                ("contact", self.shop_contact.as_str().into()),
            ],
        )?;
        let tail = self.texts.render(lang, "ad-opt-out", &[])?;
        message.text = format!("{head}\n{}\n\n{tail}", message.text);
        Ok(message)
    }

    async fn body(
        &self,
        conn: &mut Conn,
        what: &Rendering<'_>,
        facts: &Facts,
    ) -> Result<Rendered, RenderError> {
        let (message_id, customer, lang) = (what.message_id, what.customer, what.lang);
        match what.payload {
            Payload::ThankYou { broadcast_id } => {
                let customer = customer.ok_or_else(|| {
                    RenderError::BadPayload("a thank-you needs a customer".into())
                })?;
                self.thank_you(facts, message_id, customer, broadcast_id, lang)
            }
            Payload::OrderNote { order_id, status } => {
                let customer = customer.ok_or_else(|| {
                    RenderError::BadPayload("an order note needs a customer".into())
                })?;
                let Some(order) = facts.orders.get(order_id) else {
                    return Ok(Rendered::Nothing(format!("order {order_id} is gone")));
                };
                self.order_note(customer, order, status, lang)
                    .map(Rendered::Send)
            }
            Payload::Text {
                id,
                args,
                buttons,
                reply_to,
                photo,
                ..
            } => {
                let args: Vec<(&str, Arg)> = args
                    .iter()
                    .map(|(name, value)| {
                        let value = match value {
                            TextArg::Num(n) => Arg::from(*n),
                            TextArg::Str(s) => Arg::from(s.as_str()),
                        };
                        (name.as_str(), value)
                    })
                    .collect();
                let text = self.texts.render(lang, id, &args)?;
                let buttons = self.buttons(lang, buttons)?;
                let reply_to = match reply_to {
                    Some(ReplyTo::Message(id)) => Some(id.clone()),
                    Some(ReplyTo::Sent(key)) => {
                        crate::store::outbox::platform_id_of(conn, key).await?
                    }
                    None => None,
                };
                Ok(Rendered::Send(OutgoingMessage {
                    text,
                    buttons,
                    reply_to,
                    photo: photo.clone(),
                    ..OutgoingMessage::default()
                }))
            }
            Payload::Welcome => {
                let chat = what
                    .chat_id
                    .ok_or_else(|| RenderError::BadPayload("a welcome needs its room".into()))?;
                let newcomers =
                    rooms::claim_newcomers(conn, what.platform.as_str(), chat, message_id).await?;
                self.welcome(&newcomers, what.platform, lang)
            }
            Payload::VipWelcome { tier } => {
                let customer = customer.ok_or_else(|| {
                    RenderError::BadPayload("a VIP welcome needs a customer".into())
                })?;
                let mut text = self.texts.render(
                    lang,
                    "vip-welcome",
                    &[
                        ("name", customer.name.as_str().into()),
                        ("tier", tier.as_str().into()),
                    ],
                )?;
                if let Some(way_in) = self.way_in(what.room_access, lang)? {
                    text.push('\n');
                    text.push_str(&way_in);
                }
                Ok(Rendered::Send(OutgoingMessage {
                    text,
                    ..OutgoingMessage::default()
                }))
            }
            Payload::VipStatus => {
                let customer = customer
                    .ok_or_else(|| RenderError::BadPayload("/vip needs a customer".into()))?;
                let tier = vip::stored_tier(conn, &customer.id).await?;
                let codes = vip::codes_sent_to(conn, &customer.id).await?;
                let mut lines = vec![match &tier {
                    Some(tier) => self.texts.render(
                        lang,
                        "vip-status-tier",
                        &[
                            ("name", customer.name.as_str().into()),
                            ("tier", tier.as_str().into()),
                        ],
                    )?,
                    None => self.texts.render(
                        lang,
                        "vip-status-no-tier",
                        &[("name", customer.name.as_str().into())],
                    )?,
                }];
                if codes.is_empty() {
                    lines.push(self.texts.render(lang, "vip-status-no-codes", &[])?);
                } else {
                    lines.push(self.texts.render(lang, "vip-status-codes", &[])?);
                    for code in &codes {
                        let line = match code.expires_at {
                            Some(at) => self.texts.render(
                                lang,
                                "vip-status-code-until",
                                &[
                                    ("code", code.code.as_str().into()),
                                    (
                                        "date",
                                        format_date(
                                            at.with_timezone(&self.timezone).date_naive(),
                                            lang,
                                        )
                                        .into(),
                                    ),
                                ],
                            )?,
                            None => self.texts.render(
                                lang,
                                "vip-status-code",
                                &[("code", code.code.as_str().into())],
                            )?,
                        };
                        lines.push(line);
                    }
                }
                if let Some(way_in) = self.way_in(what.room_access, lang)? {
                    lines.push(way_in);
                }
                Ok(Rendered::Send(OutgoingMessage {
                    text: lines.join("\n"),
                    ..OutgoingMessage::default()
                }))
            }
            Payload::MyData => {
                let customer = customer
                    .ok_or_else(|| RenderError::BadPayload("/mydata needs a customer".into()))?;
                let Some(record) = crate::store::privacy::stored_record(conn, &customer.id).await?
                else {
                    return Ok(Rendered::Nothing("the customer is gone".into()));
                };
                let text = super::mydata::MyDataText {
                    texts: &self.texts,
                    lang,
                    timezone: self.timezone,
                    shop: &self.shop_name,
                }
                .write(&record)?;
                Ok(Rendered::Send(OutgoingMessage {
                    text,
                    ..OutgoingMessage::default()
                }))
            }
            Payload::VipPost { text } => Ok(Rendered::Send(OutgoingMessage {
                text: self
                    .texts
                    .render(lang, "vip-post", &[("text", text.as_str().into())])?,
                ..OutgoingMessage::default()
            })),
            Payload::Checkin { order_id } => {
                let customer = customer
                    .ok_or_else(|| RenderError::BadPayload("a check-in needs a customer".into()))?;
                let Some(order) = facts.orders.get(order_id) else {
                    return Ok(Rendered::Nothing(format!("order {order_id} is gone")));
                };
                let text = self.texts.render(
                    lang,
                    "journey-checkin",
                    &[
                        ("name", customer.name.as_str().into()),
                        ("items", self.items_summary(order, lang)?.into()),
                    ],
                )?;
                Ok(Rendered::Send(OutgoingMessage {
                    text,
                    buttons: self.buttons(
                        lang,
                        &rating_buttons(&format!("{RATE_CHECKIN}:{message_id}")),
                    )?,
                    ..OutgoingMessage::default()
                }))
            }
            Payload::Report { broadcast_id } => self.report(conn, broadcast_id, lang).await,
            Payload::Poll { poll } => self.poll(conn, *poll, lang).await,
            Payload::PollResult { poll } => self.poll_result(conn, *poll, lang).await,
            Payload::Act { .. } | Payload::Pin { .. } | Payload::ClosePoll { .. } => {
                Err(RenderError::BadPayload("a chat action has no words".into()))
            }
        }
    }

    /// The report's text, and its charts as a PNG under it. A chart that cannot be drawn is
    /// logged and left out: the host still gets the numbers.
    async fn report(
        &self,
        conn: &mut Conn,
        broadcast_id: &str,
        lang: Lang,
    ) -> Result<Rendered, RenderError> {
        let report = crate::store::report::broadcast_report(
            conn,
            broadcast_id,
            self.promise_hours,
            self.clock.now(),
        )
        .await?;
        let Some(report) = report else {
            return Ok(Rendered::Nothing(format!(
                "broadcast {broadcast_id} is not known any more"
            )));
        };
        let text = self.texts.render(
            lang,
            "staff-report",
            &[("report", report.to_text(&self.texts, lang)?.into())],
        )?;
        // Drawing is CPU work of about a tenth of a second: off the async workers.
        let texts = self.texts.clone();
        let drawn = tokio::task::spawn_blocking(move || {
            crate::charts::broadcast_charts_png(&report, &texts, lang)
        })
        .await;
        let attachment = match drawn {
            Ok(Ok(bytes)) => Some(Attachment {
                file_name: format!("report-{}.png", file_safe(broadcast_id)),
                bytes,
            }),
            Ok(Err(err)) => {
                tracing::error!(error = %err, "the report's chart could not be drawn");
                None
            }
            Err(err) => {
                tracing::error!(error = %err, "the report's chart drawing stopped");
                None
            }
        };
        Ok(Rendered::Send(OutgoingMessage {
            text,
            attachment,
            ..OutgoingMessage::default()
        }))
    }

    /// A poll for a room: the native poll, and for platforms without one its question, the
    /// options numbered and a button per option (at most five in a row, as Discord allows).
    async fn poll(
        &self,
        conn: &mut Conn,
        number: i64,
        lang: Lang,
    ) -> Result<Rendered, RenderError> {
        let Some(poll) = polls::poll(conn, number).await? else {
            return Ok(Rendered::Nothing(format!("poll {number} is not known")));
        };
        if poll.closed_at.is_some() {
            return Ok(Rendered::Nothing(format!(
                "poll {number} was closed before it was posted"
            )));
        }
        let options = self.numbered_lines(
            lang,
            "poll-post-option",
            poll.options
                .iter()
                .map(|option| vec![("option", option.as_str().into())])
                .collect(),
        )?;
        let text = self.texts.render(
            lang,
            "poll-post",
            &[
                ("poll", number.to_string().into()),
                ("question", poll.question.as_str().into()),
                ("options", options.into()),
            ],
        )?;
        let buttons = poll
            .options
            .iter()
            .enumerate()
            .map(|(option, label)| Button {
                label: label.clone(),
                data: VoteButton {
                    poll: number,
                    option,
                }
                .data(),
            })
            .collect::<Vec<_>>()
            .chunks(5)
            .map(<[Button]>::to_vec)
            .collect();
        Ok(Rendered::Send(OutgoingMessage {
            text,
            buttons,
            poll: Some(NativePoll {
                question: poll.question,
                options: poll.options,
            }),
            ..OutgoingMessage::default()
        }))
    }

    /// A closed poll's result, counted as it goes out (a closed poll takes no more votes).
    async fn poll_result(
        &self,
        conn: &mut Conn,
        number: i64,
        lang: Lang,
    ) -> Result<Rendered, RenderError> {
        let Some(poll) = polls::poll(conn, number).await? else {
            return Ok(Rendered::Nothing(format!("poll {number} is not known")));
        };
        let votes = polls::tally(conn, number, poll.options.len()).await?;
        let (rows, total) = crate::domain::polls::results(&poll.options, &votes);
        let lines = self.numbered_lines(
            lang,
            "poll-result-line",
            rows.iter()
                .map(|row| {
                    vec![
                        ("option", row.option.as_str().into()),
                        ("votes", row.votes.into()),
                        ("percent", row.percent.into()),
                    ]
                })
                .collect(),
        )?;
        let text = self.texts.render(
            lang,
            "poll-result",
            &[
                ("poll", number.to_string().into()),
                ("question", poll.question.as_str().into()),
                ("lines", lines.into()),
                ("total", total.into()),
            ],
        )?;
        Ok(Rendered::Send(OutgoingMessage {
            text,
            ..OutgoingMessage::default()
        }))
    }

    /// One line per item from the text `id`, numbered from 1 (`n`), with the item's arguments.
    fn numbered_lines(
        &self,
        lang: Lang,
        id: &str,
        items: Vec<Vec<(&str, Arg)>>,
    ) -> Result<String, I18nError> {
        let lines = items
            .into_iter()
            .enumerate()
            .map(|(i, mut args)| {
                args.push(("n", (i as i64 + 1).into()));
                self.texts.render(lang, id, &args)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines.join("\n"))
    }

    /// How a VIP gets into the room, in words.
    fn way_in(&self, access: Option<&RoomAccess>, lang: Lang) -> Result<Option<String>, I18nError> {
        Ok(match access {
            Some(RoomAccess::Link(link)) => Some(self.texts.render(
                lang,
                "vip-room-link",
                &[("link", link.as_str().into())],
            )?),
            Some(RoomAccess::Granted(room)) => Some(self.texts.render(
                lang,
                "vip-room-granted",
                &[("room", room.as_str().into())],
            )?),
            Some(RoomAccess::NoRoom) | None => None,
        })
    }

    /// One welcome for everyone who joined since the last: a paragraph per language, so each
    /// newcomer reads it in theirs.
    fn welcome(
        &self,
        newcomers: &[rooms::Newcomer],
        platform: Platform,
        room_lang: Lang,
    ) -> Result<Rendered, RenderError> {
        if newcomers.is_empty() {
            return Ok(Rendered::Nothing(
                "everyone here was welcomed already".into(),
            ));
        }
        let mut paragraphs = Vec::new();
        let room_first =
            std::iter::once(room_lang).chain(Lang::ALL.into_iter().filter(|l| *l != room_lang));
        for lang in room_first {
            let names: Vec<&str> = newcomers
                .iter()
                .filter(|n| {
                    n.lang
                        .as_deref()
                        .and_then(Lang::from_tag)
                        .unwrap_or(room_lang)
                        == lang
                })
                .map(|n| n.name.as_str())
                .collect();
            if names.is_empty() {
                continue;
            }
            let names = self.texts.render(
                lang,
                "room-welcome-names",
                &[(
                    "names",
                    names
                        .join(
                            self.texts
                                .render(lang, "room-welcome-separator", &[])?
                                .as_str(),
                        )
                        .into(),
                )],
            )?;
            let how_to_link = match platform {
                Platform::Discord => "room-welcome-link-discord",
                _ => "room-welcome-link-telegram",
            };
            paragraphs.push(format!(
                "{}\n{}\n{}",
                self.texts
                    .render(lang, "room-welcome", &[("names", names.into())])?,
                self.texts.render(lang, "room-rules", &[])?,
                self.texts.render(lang, how_to_link, &[])?,
            ));
        }
        Ok(Rendered::Send(OutgoingMessage {
            text: paragraphs.join("\n\n"),
            ..OutgoingMessage::default()
        }))
    }

    /// Button labels are locale ids, rendered like the text.
    fn buttons(
        &self,
        lang: Lang,
        specs: &[Vec<ButtonSpec>],
    ) -> Result<Vec<Vec<Button>>, I18nError> {
        specs
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| {
                        Ok(Button {
                            label: self.texts.render(lang, &b.label, &[])?,
                            data: b.data.clone(),
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// What a thank-you names: the buyer's orders in the broadcast that still count, and the
    /// broadcast's title, from the batch's facts. `None` when every order was cancelled or
    /// refunded.
    fn thanked_for<'f>(
        &self,
        facts: &'f Facts,
        customer: &Customer,
        broadcast_id: &str,
    ) -> Option<(Vec<&'f Order>, String)> {
        let bought: Vec<&Order> = facts
            .bought
            .get(&(customer.id.clone(), broadcast_id.to_string()))
            .into_iter()
            .flatten()
            .filter(|o| o.status.counts_as_purchase())
            .collect();
        if bought.is_empty() {
            return None;
        }
        let title = facts
            .titles
            .get(broadcast_id)
            .cloned()
            .flatten()
            .unwrap_or_else(|| broadcast_id.to_string());
        Some((bought, title))
    }

    fn thank_you(
        &self,
        facts: &Facts,
        message_id: i64,
        customer: &Customer,
        broadcast_id: &str,
        lang: Lang,
    ) -> Result<Rendered, RenderError> {
        let Some((bought, title)) = self.thanked_for(facts, customer, broadcast_id) else {
            return Ok(Rendered::Nothing(NOTHING_TO_THANK_FOR.into()));
        };
        let t = &self.texts;
        let mut lines = vec![t.render(
            lang,
            "thank-you-header",
            &[
                ("name", customer.name.as_str().into()),
                ("broadcast", title.into()),
            ],
        )?];
        lines.push(String::new());
        for order in bought {
            lines.push(t.render(
                lang,
                "thank-you-order-line",
                &[
                    ("items", self.items_summary(order, lang)?.into()),
                    ("total", order.total.into()),
                    ("status", self.status_phrase(order, lang)?.into()),
                ],
            )?);
        }
        lines.push(String::new());
        lines.push(t.render(lang, "thank-you-footer", &[])?);
        // The satisfaction question rides in the same message (issue #4: one message, not two).
        lines.push(t.render(lang, "thank-you-rating-ask", &[])?);
        Ok(Rendered::Send(OutgoingMessage {
            text: lines.join("\n"),
            buttons: self.buttons(
                lang,
                &rating_buttons(&format!("{RATE_THANK_YOU}:{message_id}")),
            )?,
            ..OutgoingMessage::default()
        }))
    }

    /// A note as KakaoTalk carries it (CONTRACT §11): encore's name for it and exactly the
    /// `#{…}` variables its approved template has (`alimtalk::variables_of`), written from the
    /// same facts as the chat message, in the language of the templates (the shop's).
    fn as_template(&self, what: &Rendering<'_>, facts: &Facts) -> Result<Rendered, RenderError> {
        let customer = what.customer.ok_or_else(|| {
            RenderError::BadPayload("a note by KakaoTalk needs a customer".into())
        })?;
        let (t, lang) = (&self.texts, what.lang);
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        values.insert(
            "name",
            t.render(
                lang,
                "alimtalk-name",
                &[("name", customer.name.as_str().into())],
            )?,
        );
        let name = match what.payload {
            Payload::ThankYou { broadcast_id } => {
                let Some((bought, title)) = self.thanked_for(facts, customer, broadcast_id) else {
                    return Ok(Rendered::Nothing(NOTHING_TO_THANK_FOR.into()));
                };
                let items = bought
                    .iter()
                    .map(|o| self.items_summary(o, lang))
                    .collect::<Result<Vec<_>, _>>()?;
                let statuses = bought
                    .iter()
                    .map(|o| self.status_phrase(o, lang))
                    .collect::<Result<Vec<_>, _>>()?;
                values.insert("broadcast", title);
                values.insert(
                    "items",
                    items.join(&t.render(lang, "alimtalk-items-separator", &[])?),
                );
                values.insert(
                    "status",
                    statuses.join(&t.render(lang, "alimtalk-status-separator", &[])?),
                );
                alimtalk::THANK_YOU.to_string()
            }
            Payload::OrderNote { order_id, status } => {
                let Some(order) = facts.orders.get(order_id) else {
                    return Ok(Rendered::Nothing(format!("order {order_id} is gone")));
                };
                values.insert("order", order.id.clone());
                values.insert("items", self.items_summary(order, lang)?);
                values.insert(
                    "total",
                    t.render(lang, "alimtalk-amount", &[("total", order.total.into())])?,
                );
                values.insert(
                    "carrier",
                    order.tracking_carrier.clone().unwrap_or_default(),
                );
                values.insert(
                    "tracking",
                    order.tracking_number.clone().unwrap_or_default(),
                );
                values.insert("reason", order.delay_reason.clone().unwrap_or_default());
                values.insert(
                    "date",
                    order
                        .delay_eta
                        .map(|d| format_date(d, lang))
                        .unwrap_or_default(),
                );
                alimtalk::order_note_name(status)
            }
            _ => {
                return Err(RenderError::BadPayload(
                    "only the thank-you and order notes go by KakaoTalk".into(),
                ));
            }
        };
        let variables = alimtalk::variables_of(&name)
            .iter()
            .map(|v| (v.to_string(), values.get(v).cloned().unwrap_or_default()))
            .collect();
        Ok(Rendered::Send(OutgoingMessage {
            template: Some(Box::new(TemplateMessage { name, variables })),
            ..OutgoingMessage::default()
        }))
    }

    /// "울 코트", "울 코트 외 2건": what the buyer will recognise.
    fn items_summary(&self, order: &Order, lang: Lang) -> Result<String, I18nError> {
        let first = order
            .items
            .first()
            .map(|i| i.name.as_str())
            .unwrap_or(order.id.as_str());
        let others = order.items.len().saturating_sub(1);
        self.texts.render(
            lang,
            "items-summary",
            &[("first", first.into()), ("others", others.into())],
        )
    }

    /// The order's state in a few words, with what the buyer needs from it (tracking, new date).
    fn status_phrase(&self, order: &Order, lang: Lang) -> Result<String, I18nError> {
        let t = &self.texts;
        match (order.status, &order.tracking_number, order.delay_eta) {
            (OrderStatus::Shipped | OrderStatus::PartiallyShipped, Some(number), _) => t.render(
                lang,
                "order-status-with-tracking",
                &[
                    (
                        "status",
                        t.render(lang, &format!("order-status-{}", order.status), &[])?
                            .into(),
                    ),
                    (
                        "carrier",
                        order.tracking_carrier.clone().unwrap_or_default().into(),
                    ),
                    ("tracking", number.as_str().into()),
                ],
            ),
            (OrderStatus::Delayed, _, Some(eta)) => t.render(
                lang,
                "order-status-delayed-until",
                &[("date", format_date(eta, lang).into())],
            ),
            (status, _, _) => t.render(lang, &format!("order-status-{status}"), &[]),
        }
    }

    fn order_note(
        &self,
        customer: &Customer,
        order: &Order,
        status: &str,
        lang: Lang,
    ) -> Result<OutgoingMessage, RenderError> {
        let t = &self.texts;
        let items = self.items_summary(order, lang)?;
        let mut args: Vec<(&str, Arg)> = vec![
            ("name", customer.name.as_str().into()),
            ("items", items.into()),
            ("total", order.total.into()),
            ("order_id", order.id.as_str().into()),
        ];
        let id = match status {
            "shipped" => {
                args.push((
                    "carrier",
                    order.tracking_carrier.clone().unwrap_or_default().into(),
                ));
                args.push((
                    "tracking",
                    order.tracking_number.clone().unwrap_or_default().into(),
                ));
                "order-note-shipped"
            }
            "delayed" => {
                args.push((
                    "reason",
                    order.delay_reason.clone().unwrap_or_default().into(),
                ));
                let date = order
                    .delay_eta
                    .map(|d| format_date(d, lang))
                    .unwrap_or_default();
                args.push(("date", date.into()));
                "order-note-delayed"
            }
            "delivered" => "order-note-delivered",
            "cancelled" => "order-note-cancelled",
            "refunded" => "order-note-refunded",
            "placed" => "order-note-placed",
            other => {
                return Err(RenderError::BadPayload(format!(
                    "no note is written for status `{other}`"
                )));
            }
        };
        let mut text = t.render(lang, id, &args)?;
        if status == "shipped"
            && let Some(url) = &order.tracking_url
        {
            text.push('\n');
            text.push_str(&t.render(
                lang,
                "order-note-tracking-url",
                &[("url", url.as_str().into())],
            )?);
        }
        Ok(OutgoingMessage {
            text,
            ..OutgoingMessage::default()
        })
    }
}

/// A broadcast id as part of a file name: letters, digits, `-` and `_` kept, the rest `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A day as people write it: "12월 3일(목)", "Thu, December 3".
pub fn format_date(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Ko => {
            let weekday = ["월", "화", "수", "목", "금", "토", "일"]
                [date.weekday().num_days_from_monday() as usize];
            format!("{}월 {}일({weekday})", date.month(), date.day())
        }
        Lang::En => date.format("%a, %B %-d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(format_date(date, Lang::Ko), "12월 3일(목)");
        assert_eq!(format_date(date, Lang::En), "Thu, December 3");
    }
}
