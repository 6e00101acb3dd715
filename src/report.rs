//! The broadcast report (CONTRACT §7): one plain type, shown as JSON by the API and
//! `encore report --json`, and as text in the staff chat and the terminal.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::Lang;
use crate::i18n::{Arg, I18nError, Texts};

/// `--since 2026-11-01` (midnight in shop time) or an RFC 3339 instant.
pub fn parse_since(text: &str, tz: chrono_tz::Tz) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!("`{text}` is not a date: write YYYY-MM-DD (shop time) or an RFC 3339 time")
    })?;
    date.and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(tz).earliest())
        .map(|at| at.with_timezone(&chrono::Utc))
        .ok_or_else(|| format!("`{text}` has no midnight in the shop's time zone"))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BroadcastReport {
    pub broadcast_id: String,
    pub title: Option<String>,
    pub buyers: i64,
    pub linked_buyers: i64,
    pub unlinked_buyers: i64,
    pub thank_you: DeliveryCounts,
    /// The thank-yous again, by the platform each went on (CONTRACT §11).
    pub by_platform: ByPlatform,
    pub order_notes: OrderNoteCounts,
    pub feedback: FeedbackCounts,
    pub handoffs: HandoffCounts,
    pub codes: CodeCounts,
    pub advertising: AdvertisingCounts,
    /// Every message about this broadcast, by kind (transactional / advertising) and outcome.
    pub messages_by_kind: BTreeMap<String, DeliveryCounts>,
    /// Did this broadcast's buyers come back? (CONTRACT §7)
    pub comeback: Comeback,
    /// Personalised picks in this live's alerts, and orders of the picked product within 7
    /// days of its start (CONTRACT §6).
    pub picks: crate::store::picks::PickCounts,
}

/// Of the broadcast's buyers, who ordered again after it ended, and who watched the next live.
/// Measured from the broadcast's end (`ended_at`; without one, its last order).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comeback {
    pub reordered: Reordered,
    /// Buyers linked to a messenger (the same buyers as `linked_buyers`).
    pub linked: ComebackGroup,
    pub unlinked: ComebackGroup,
    /// Buyers with a `viewer.engaged` on the first broadcast that started after this one ended.
    pub watched_next_live: i64,
    /// The come-back curve: `linked[d]` is how many linked buyers had ordered again within `d`
    /// days of the end, d = 0..=90 (cumulative); the same for `unlinked`. Days still to come
    /// repeat the count so far.
    pub curve: ComebackCurve,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reordered {
    #[serde(rename = "7d")]
    pub within_7_days: ReorderWindow,
    #[serde(rename = "30d")]
    pub within_30_days: ReorderWindow,
    #[serde(rename = "90d")]
    pub within_90_days: ReorderWindow,
}

/// `complete` is false while the window has not closed yet: the count may still grow.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReorderWindow {
    pub count: i64,
    pub complete: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComebackGroup {
    pub buyers: i64,
    pub reordered_30d: i64,
}

/// Cumulative re-order counts per day since the broadcast's end, days 0..=90 (91 entries each).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComebackCurve {
    pub linked: Vec<i64>,
    pub unlinked: Vec<i64>,
}

/// The days the come-back curve covers (0..=90).
pub const COMEBACK_CURVE_DAYS: usize = 90;

/// `sent` = handed to a platform (delivered + failed + blocked); `delivered` = the platform
/// accepted it and returned a message id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryCounts {
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub blocked: i64,
}

/// The thank-you counts by platform. A thank-you that went nowhere (no messenger linked, no
/// KakaoTalk) is in the totals only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ByPlatform {
    pub telegram: DeliveryCounts,
    pub discord: DeliveryCounts,
    pub kakao: KakaoCounts,
}

/// KakaoTalk's counts: the thank-you keys, and the thank-yous whose only way was KakaoTalk but
/// that had no template there (not sent, not in `sent`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KakaoCounts {
    #[serde(flatten)]
    pub delivery: DeliveryCounts,
    pub no_template: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrderNoteCounts {
    pub shipped: i64,
    pub delayed: i64,
    pub delivered: i64,
    pub cancelled: i64,
    pub refunded: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FeedbackCounts {
    pub count: i64,
    pub mean: Option<f64>,
    pub distribution: BTreeMap<String, i64>,
    pub comments: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HandoffCounts {
    pub opened: i64,
    pub answered_within_promise: i64,
    pub open: i64,
}

/// The period report (CONTRACT §7): codes by campaign and advertising outcomes that belong to
/// no broadcast, since a date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeriodReport {
    pub since: String,
    pub codes: CodeCounts,
    /// By campaign; shared codes are the campaign `shared`.
    pub campaigns: Vec<crate::store::vip::CampaignCodes>,
    /// Journey messages sent, by journey (its `[journeys]` key) and A/B variant, with
    /// conversions (an order within 7 days of the send); trust recovery also by cause.
    pub journeys: std::collections::BTreeMap<String, crate::store::journeys::JourneyCounts>,
    pub advertising: AdvertisingCounts,
    pub polls: PollCounts,
}

/// Community polls in the period report: polls asked and closed since the date, and the votes
/// standing in the polls asked since then (one a member; a vote taken back is not counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PollCounts {
    pub asked: i64,
    pub closed: i64,
    pub votes: i64,
}

impl PeriodReport {
    pub fn to_text(&self, texts: &Texts, lang: Lang) -> Result<String, I18nError> {
        let campaigns = self
            .campaigns
            .iter()
            .map(|c| {
                texts.render(
                    lang,
                    "period-report-campaign",
                    &[
                        ("campaign", Arg::from(c.campaign.as_str())),
                        ("sent", c.sent.into()),
                        ("redeemed", c.redeemed.into()),
                        ("violations", c.violations.into()),
                        ("left", c.pool_left.into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?
            .join("\n");
        let mut lines = Vec::new();
        for (name, journey) in &self.journeys {
            let line = |variant: &str, sent: i64, conversions: i64| {
                texts.render(
                    lang,
                    "period-report-journey",
                    &[
                        ("journey", Arg::from(name.as_str())),
                        ("variant", Arg::from(variant)),
                        ("sent", sent.into()),
                        ("conversions", conversions.into()),
                    ],
                )
            };
            if journey.variants.is_empty() {
                lines.push(line("-", journey.sent, journey.conversions)?);
            }
            for (variant, counts) in &journey.variants {
                lines.push(line(variant, counts.sent, counts.conversions)?);
            }
            for (cause, counts) in journey.by_cause.iter().flatten() {
                lines.push(texts.render(
                    lang,
                    "period-report-journey-cause",
                    &[
                        ("cause", Arg::from(cause.as_str())),
                        ("sent", counts.sent.into()),
                        ("returned", counts.returned.into()),
                    ],
                )?);
            }
        }
        let journeys = lines.join("\n");
        let report = texts.render(
            lang,
            "period-report-text",
            &[
                ("since", Arg::from(self.since.as_str())),
                ("sent", self.codes.sent.into()),
                ("redeemed", self.codes.redeemed.into()),
                ("violations", self.codes.violations.into()),
                ("campaigns", Arg::from(campaigns)),
                ("journeys", Arg::from(journeys)),
                ("held", self.advertising.held_for_quiet_hours.into()),
                ("postponed", self.advertising.postponed_by_cap.into()),
                ("refused", self.advertising.refused_without_consent.into()),
                ("expired", self.advertising.expired.into()),
            ],
        )?;
        let polls = texts.render(
            lang,
            "period-report-polls",
            &[
                ("asked", self.polls.asked.into()),
                ("closed", self.polls.closed.into()),
                ("votes", self.polls.votes.into()),
            ],
        )?;
        Ok(format!("{report}\n{polls}"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CodeCounts {
    pub sent: i64,
    pub redeemed: i64,
    pub violations: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AdvertisingCounts {
    pub held_for_quiet_hours: i64,
    pub postponed_by_cap: i64,
    pub refused_without_consent: i64,
    pub expired: i64,
}

impl FeedbackCounts {
    pub fn empty() -> FeedbackCounts {
        FeedbackCounts {
            count: 0,
            mean: None,
            distribution: (1..=5).map(|n| (n.to_string(), 0)).collect(),
            comments: 0,
        }
    }
}

impl BroadcastReport {
    /// The report as a person reads it, in the shop's language.
    pub fn to_text(&self, texts: &Texts, lang: Lang) -> Result<String, I18nError> {
        let kinds = self
            .messages_by_kind
            .iter()
            .map(|(kind, c)| {
                texts.render(
                    lang,
                    "report-kind-line",
                    &[
                        ("kind", Arg::from(kind.as_str())),
                        ("sent", c.sent.into()),
                        ("delivered", c.delivered.into()),
                        ("failed", c.failed.into()),
                        ("blocked", c.blocked.into()),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?
            .join("\n");
        let platforms = [
            ("telegram", &self.by_platform.telegram, None),
            ("discord", &self.by_platform.discord, None),
            (
                "kakao",
                &self.by_platform.kakao.delivery,
                Some(self.by_platform.kakao.no_template),
            ),
        ]
        .into_iter()
        .map(|(platform, c, no_template)| {
            let mut args = vec![
                ("platform", Arg::from(platform)),
                ("sent", c.sent.into()),
                ("delivered", c.delivered.into()),
                ("failed", c.failed.into()),
                ("blocked", c.blocked.into()),
            ];
            let id = match no_template {
                Some(n) => {
                    args.push(("no_template", n.into()));
                    "report-kakao-line"
                }
                None => "report-platform-line",
            };
            texts.render(lang, id, &args)
        })
        .collect::<Result<Vec<_>, _>>()?
        .join("\n");
        let title = self
            .title
            .clone()
            .unwrap_or_else(|| self.broadcast_id.clone());
        texts.render(
            lang,
            "report-text",
            &[
                ("broadcast", Arg::from(title)),
                ("buyers", self.buyers.into()),
                ("linked", self.linked_buyers.into()),
                ("unlinked", self.unlinked_buyers.into()),
                ("sent", self.thank_you.sent.into()),
                ("delivered", self.thank_you.delivered.into()),
                ("failed", self.thank_you.failed.into()),
                ("blocked", self.thank_you.blocked.into()),
                ("platforms", Arg::from(platforms)),
                ("shipped", self.order_notes.shipped.into()),
                ("delayed", self.order_notes.delayed.into()),
                ("notes_delivered", self.order_notes.delivered.into()),
                ("cancelled", self.order_notes.cancelled.into()),
                ("refunded", self.order_notes.refunded.into()),
                ("feedback", self.feedback.count.into()),
                (
                    "mean",
                    Arg::from(
                        self.feedback
                            .mean
                            .map(|m| format!("{m:.1}"))
                            .unwrap_or_else(|| "-".into()),
                    ),
                ),
                (
                    "distribution",
                    Arg::from(
                        (1..=5)
                            .map(|n| {
                                format!(
                                    "{n}:{}",
                                    self.feedback
                                        .distribution
                                        .get(&n.to_string())
                                        .copied()
                                        .unwrap_or(0)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                ),
                ("comments", self.feedback.comments.into()),
                ("opened", self.handoffs.opened.into()),
                ("answered", self.handoffs.answered_within_promise.into()),
                ("open", self.handoffs.open.into()),
                ("kinds", Arg::from(kinds)),
                ("codes_sent", self.codes.sent.into()),
                ("codes_redeemed", self.codes.redeemed.into()),
                ("codes_violations", self.codes.violations.into()),
                ("ads_held", self.advertising.held_for_quiet_hours.into()),
                ("ads_postponed", self.advertising.postponed_by_cap.into()),
                (
                    "ads_refused",
                    self.advertising.refused_without_consent.into(),
                ),
                ("ads_expired", self.advertising.expired.into()),
                ("re7", self.comeback.reordered.within_7_days.count.into()),
                (
                    "re7_complete",
                    yes_no(self.comeback.reordered.within_7_days.complete),
                ),
                ("re30", self.comeback.reordered.within_30_days.count.into()),
                (
                    "re30_complete",
                    yes_no(self.comeback.reordered.within_30_days.complete),
                ),
                ("re90", self.comeback.reordered.within_90_days.count.into()),
                (
                    "re90_complete",
                    yes_no(self.comeback.reordered.within_90_days.complete),
                ),
                ("linked_buyers", self.comeback.linked.buyers.into()),
                ("linked_re30", self.comeback.linked.reordered_30d.into()),
                ("unlinked_buyers", self.comeback.unlinked.buyers.into()),
                ("unlinked_re30", self.comeback.unlinked.reordered_30d.into()),
                ("watched_next", self.comeback.watched_next_live.into()),
                ("picks_sent", self.picks.sent.into()),
                ("picks_ordered", self.picks.ordered_within_7d.into()),
            ],
        )
    }
}

/// A flag as a Fluent selector key.
fn yes_no(flag: bool) -> Arg {
    Arg::from(if flag { "yes" } else { "no" })
}
