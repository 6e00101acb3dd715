//! The words of `/mydata`: a customer's stored record as they read it, part by part, in their
//! language, with times in the shop's time zone. Writing only: what the record holds is the
//! store's (`store::privacy::stored_record`), read when the message is sent.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::Lang;
use crate::i18n::{Arg, I18nError, Texts};
use crate::store::customers::ConsentPurpose;
use crate::store::orders::Order;
use crate::store::privacy::StoredRecord;

/// Where the message is written from.
pub struct MyDataText<'a> {
    pub texts: &'a Texts,
    pub lang: Lang,
    pub timezone: Tz,
    pub shop: &'a str,
}

impl MyDataText<'_> {
    fn t(&self, id: &str, args: &[(&str, Arg)]) -> Result<String, I18nError> {
        self.texts.render(self.lang, id, args)
    }

    /// A moment as a consent record needs it: to the minute.
    fn when(&self, at: DateTime<Utc>) -> String {
        crate::domain::policy::shop_minute(at, self.timezone)
    }

    fn day(&self, at: DateTime<Utc>) -> String {
        crate::domain::policy::shop_day(at, self.timezone)
    }

    /// The whole answer; long records are split into several messages by the platform adapter.
    pub fn write(&self, record: &StoredRecord) -> Result<String, I18nError> {
        let customer = &record.customer;
        let mut lines = vec![
            self.t(
                "mydata-header",
                &[
                    ("name", customer.name.as_str().into()),
                    ("shop", self.shop.into()),
                ],
            )?,
            String::new(),
            self.t("mydata-profile", &[])?,
            self.t("mydata-name", &[("name", customer.name.as_str().into())])?,
            self.t("mydata-customer-id", &[("id", customer.id.as_str().into())])?,
        ];
        if let Some(birthday) = &customer.birthday {
            lines.push(self.t("mydata-birthday", &[("birthday", birthday.as_str().into())])?);
        }
        if let Some(phone) = &record.phone {
            lines.push(self.t(
                "mydata-phone",
                &[
                    ("phone", phone.number.as_str().into()),
                    (
                        "reachable",
                        if phone.reachable() { "yes" } else { "no" }.into(),
                    ),
                ],
            )?);
        }
        if let Some(tier) = &record.tier {
            lines.push(self.t("mydata-tier", &[("tier", tier.as_str().into())])?);
        }

        let section = |lines: &mut Vec<String>, heading: &str, entries: Vec<String>| {
            lines.push(String::new());
            lines.push(self.t(heading, &[])?);
            if entries.is_empty() {
                lines.push(self.t("mydata-none", &[])?);
            }
            lines.extend(entries);
            Ok::<(), I18nError>(())
        };

        let identities = record
            .identities
            .iter()
            .map(|i| {
                self.t(
                    "mydata-identity",
                    &[
                        ("platform", i.platform.as_str().into()),
                        ("at", self.when(i.linked_at).into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        section(&mut lines, "mydata-identities", identities)?;

        let consents = record
            .consents
            .iter()
            .map(|c| {
                let e = &c.entry;
                let purpose = match e.purpose {
                    ConsentPurpose::Marketing => "marketing",
                    ConsentPurpose::Night => "night",
                };
                self.t(
                    "mydata-consent",
                    &[
                        ("at", self.when(e.given_at).into()),
                        ("purpose", purpose.into()),
                        (
                            "state",
                            if e.granted { "given" } else { "withdrawn" }.into(),
                        ),
                        ("source", e.source.as_str().into()),
                        ("method", e.method.as_str().into()),
                        ("wording", e.wording.as_str().into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        section(&mut lines, "mydata-consents", consents)?;

        let orders = record
            .orders
            .iter()
            .map(|o| self.order(o))
            .collect::<Result<Vec<_>, _>>()?;
        section(&mut lines, "mydata-orders", orders)?;

        let tickets = record
            .tickets
            .iter()
            .map(|t| match t.closed_at {
                Some(closed) => self.t(
                    "mydata-ticket-closed",
                    &[
                        ("number", t.id.into()),
                        ("opened", self.day(t.opened_at).into()),
                        ("closed", self.day(closed).into()),
                    ],
                ),
                None => self.t(
                    "mydata-ticket-open",
                    &[
                        ("number", t.id.into()),
                        ("opened", self.day(t.opened_at).into()),
                    ],
                ),
            })
            .collect::<Result<Vec<_>, _>>()?;
        section(&mut lines, "mydata-tickets", tickets)?;

        let mut feedback = Vec::new();
        for f in &record.feedback {
            feedback.push(self.t(
                "mydata-feedback-entry",
                &[
                    ("date", self.day(f.created_at).into()),
                    ("about", f.subject.as_str().into()),
                    ("subject", f.subject_id.as_str().into()),
                    ("rating", f.rating.into()),
                ],
            )?);
            if let Some(comment) = f.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                feedback.push(self.t("mydata-feedback-comment", &[("comment", comment.into())])?);
            }
        }
        section(&mut lines, "mydata-feedback", feedback)?;

        lines.push(String::new());
        lines.push(self.t("mydata-footer", &[])?);
        Ok(lines.join("\n"))
    }

    fn order(&self, order: &Order) -> Result<String, I18nError> {
        let first = order
            .items
            .first()
            .map(|i| i.name.as_str())
            .unwrap_or(order.id.as_str());
        let items = self.t(
            "items-summary",
            &[
                ("first", first.into()),
                ("others", order.items.len().saturating_sub(1).into()),
            ],
        )?;
        let status = self.t(&format!("order-status-{}", order.status), &[])?;
        self.t(
            "mydata-order",
            &[
                ("order_id", order.id.as_str().into()),
                ("date", self.day(order.placed_at).into()),
                ("items", items.into()),
                ("total", order.total.into()),
                ("status", status.into()),
            ],
        )
    }
}
