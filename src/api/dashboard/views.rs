//! The dashboard's HTML: one layout and one view per page, written with maud (checked at compile
//! time; every value spliced in is escaped). Words come from `locales/*/dashboard.ftl` in the
//! shop's language; times are shown in the shop's time zone. Views take what `pages.rs`
//! gathered and read nothing themselves.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::context::AppContext;
use crate::domain::Lang;
use crate::i18n::{Arg, I18nError, Texts};
use crate::report::{BroadcastReport, DeliveryCounts, ReorderWindow};
use crate::store::customers::{ConsentEntry, ConsentPurpose};
use crate::store::dashboard::{BroadcastListing, HeldMessage, QueueCount};
use crate::store::dead_letters::DeadLetter;

use super::pages::{Health, TicketLine, TicketStatus};

type ViewResult = Result<Markup, I18nError>;

/// The shop's words and clock for one page.
pub struct Words<'a> {
    texts: &'a Texts,
    pub lang: Lang,
    tz: Tz,
    shop: &'a str,
}

impl<'a> Words<'a> {
    pub fn of(ctx: &'a AppContext) -> Words<'a> {
        Words {
            texts: &ctx.texts,
            lang: ctx.config.shop.default_locale,
            tz: ctx.config.shop.timezone,
            shop: &ctx.config.shop.name,
        }
    }

    fn t(&self, id: &str) -> Result<String, I18nError> {
        self.texts.render(self.lang, id, &[])
    }

    fn with(&self, id: &str, args: &[(&str, Arg)]) -> Result<String, I18nError> {
        self.texts.render(self.lang, id, args)
    }

    /// A count with the language's digit grouping (1,234).
    fn n(&self, n: i64) -> Result<String, I18nError> {
        self.with("dashboard-count", &[("n", n.into())])
    }

    /// A moment in the shop's time zone, to the minute.
    pub fn at(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    fn at_or_none(&self, at: Option<DateTime<Utc>>) -> Result<String, I18nError> {
        match at {
            Some(at) => Ok(self.at(at)),
            None => self.t("dashboard-none"),
        }
    }
}

/// Readable on a phone: one fluid column, tables that scroll sideways on their own.
const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Apple SD Gothic Neo','Noto Sans KR','Malgun Gothic',sans-serif;color:#1d1d1f;background:#f6f6f8}
header{background:#26215c;color:#fff;padding:.75rem 1rem}
header a{color:#fff}
header h1{font-size:1.1rem;margin:0 0 .4rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
nav form{margin:0 0 0 auto}
main{max-width:60rem;margin:0 auto;padding:1rem}
h2{font-size:1.3rem;margin:.5rem 0 1rem}
h3{font-size:1.05rem;margin:1.5rem 0 .5rem}
section>h3:first-child,section>h2:first-child{margin-top:0}
section{background:#fff;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e4e4ea;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem;margin:0}
dl.figures div{background:#f3f2fb;border-radius:.4rem;padding:.4rem .6rem}
dt{font-size:.85rem;color:#555}
dd{margin:0;font-size:1.2rem;font-weight:600}
.overdue{color:#b3261e;font-weight:600}
.muted{color:#666}
.error{color:#b3261e}
form.inline,p.inline{display:flex;flex-wrap:wrap;gap:.5rem}
input[type=text],input[type=password]{font:inherit;padding:.5rem;border:1px solid #bbb;border-radius:.4rem;flex:1 1 14rem;min-width:0}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.4rem;background:#4f46e5;color:#fff}
header button{background:transparent;border:1px solid #fff;padding:.15rem .6rem}
.charts svg{max-width:100%;height:auto;font-family:inherit}
";

/// The frame of every page. `signed_in` shows the menu and the sign-out button.
fn layout(w: &Words, title: &str, signed_in: bool, body: Markup) -> ViewResult {
    let shop = w.with("dashboard-title", &[("shop", Arg::from(w.shop))])?;
    Ok(html! {
        (DOCTYPE)
        html lang=(w.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (shop) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (shop) }
                    @if signed_in {
                        nav {
                            a href="/dashboard" { (w.t("dashboard-nav-broadcasts")?) }
                            a href="/dashboard/tickets" { (w.t("dashboard-nav-tickets")?) }
                            a href="/dashboard/held" { (w.t("dashboard-nav-held")?) }
                            a href="/dashboard/health" { (w.t("dashboard-nav-health")?) }
                            a href="/dashboard/consent" { (w.t("dashboard-nav-consent")?) }
                            form method="post" action="/dashboard/logout" {
                                button type="submit" { (w.t("dashboard-sign-out")?) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    })
}

pub fn login(w: &Words, refused: bool) -> ViewResult {
    let title = w.t("dashboard-login-title")?;
    let body = html! {
        section {
            h2 { (title) }
            @if refused {
                p.error role="alert" { (w.t("dashboard-login-refused")?) }
            }
            form method="post" action="/dashboard/login" {
                p {
                    label for="token" { (w.t("dashboard-login-token")?) }
                }
                p.inline {
                    input #token type="password" name="token" autocomplete="current-password" required;
                    " "
                    button type="submit" { (w.t("dashboard-login-submit")?) }
                }
                p.muted { (w.t("dashboard-login-hint")?) }
            }
        }
    };
    layout(w, &title, false, body)
}

pub fn not_found(w: &Words) -> ViewResult {
    let title = w.t("dashboard-not-found")?;
    let body = html! {
        section {
            h2 { (title) }
            p { a href="/dashboard" { (w.t("dashboard-back")?) } }
        }
    };
    layout(w, &title, true, body)
}

pub fn broadcasts(w: &Words, list: &[BroadcastListing]) -> ViewResult {
    let title = w.t("dashboard-broadcasts-title")?;
    let body = html! {
        h2 { (title) }
        section {
            @if list.is_empty() {
                p.muted { (w.t("dashboard-broadcasts-empty")?) }
            } @else {
                div.scroll { table {
                    thead { tr {
                        th { (w.t("dashboard-col-title")?) }
                        th { (w.t("dashboard-col-started")?) }
                        th { (w.t("dashboard-col-ended")?) }
                        th.num { (w.t("dashboard-col-buyers")?) }
                    } }
                    tbody {
                        @for b in list {
                            tr {
                                td { a href={ "/dashboard/broadcasts/" (urlencode(&b.id)) } {
                                    (b.title.as_deref().unwrap_or(&b.id))
                                } }
                                td { (w.at_or_none(b.started)?) }
                                td { (w.at_or_none(b.ended)?) }
                                td.num { (w.with("dashboard-buyers", &[("count", b.buyers.into())])?) }
                            }
                        }
                    }
                } }
            }
        }
    };
    layout(w, &title, true, body)
}

/// A path segment as a URL carries it (a broadcast id may hold any character).
fn urlencode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Figures as a grid of labelled numbers.
fn figures(w: &Words, items: &[(&str, i64)]) -> ViewResult {
    Ok(html! {
        dl.figures {
            @for (id, n) in items {
                div { dt { (w.t(id)?) } dd { (w.n(*n)?) } }
            }
        }
    })
}

fn delivery(w: &Words, c: &DeliveryCounts) -> ViewResult {
    figures(
        w,
        &[
            ("dashboard-count-sent", c.sent),
            ("dashboard-count-delivered", c.delivered),
            ("dashboard-count-failed", c.failed),
            ("dashboard-count-blocked", c.blocked),
        ],
    )
}

fn window(w: &Words, days: i64, window: &ReorderWindow) -> ViewResult {
    Ok(html! {
        div {
            dt { (w.with("dashboard-comeback-window", &[("days", days.into())])?) }
            dd {
                (w.n(window.count)?)
                @if !window.complete {
                    " " small.muted { "(" (w.t("dashboard-comeback-incomplete")?) ")" }
                }
            }
        }
    })
}

/// One broadcast's report: every figure of CONTRACT §7, the come-back block and the charts.
pub fn report(w: &Words, r: &BroadcastReport, charts: Option<Markup>) -> ViewResult {
    let name = r.title.as_deref().unwrap_or(&r.broadcast_id);
    let title = w.with("dashboard-report-title", &[("title", Arg::from(name))])?;
    let fb = &r.feedback;
    let mean = match fb.mean {
        Some(mean) => format!("{mean:.1}"),
        None => w.t("dashboard-none")?,
    };
    let cb = &r.comeback;
    let body = html! {
        h2 { (title) }
        section {
            p { strong { (w.with("dashboard-report-buyers", &[
                ("buyers", r.buyers.into()),
                ("linked", r.linked_buyers.into()),
                ("unlinked", r.unlinked_buyers.into()),
            ])?) } }
        }
        section {
            h3 { (w.t("dashboard-comeback-title")?) }
            p.muted { (w.t("dashboard-comeback-intro")?) }
            dl.figures {
                (window(w, 7, &cb.reordered.within_7_days)?)
                (window(w, 30, &cb.reordered.within_30_days)?)
                (window(w, 90, &cb.reordered.within_90_days)?)
            }
            ul {
                li { (w.t("dashboard-comeback-linked")?) ": "
                     (w.with("dashboard-comeback-group", &[("buyers", cb.linked.buyers.into()), ("reordered", cb.linked.reordered_30d.into())])?) }
                li { (w.t("dashboard-comeback-unlinked")?) ": "
                     (w.with("dashboard-comeback-group", &[("buyers", cb.unlinked.buyers.into()), ("reordered", cb.unlinked.reordered_30d.into())])?) }
                li { (w.with("dashboard-comeback-watched", &[("count", cb.watched_next_live.into())])?) }
            }
        }
        @if let Some(charts) = charts {
            section.charts {
                h3 { (w.t("dashboard-report-charts")?) }
                (charts)
            }
        }
        section {
            h3 { (w.t("dashboard-report-thank-you")?) }
            (delivery(w, &r.thank_you)?)
        }
        section {
            h3 { (w.t("dashboard-report-order-notes")?) }
            (figures(w, &[
                ("dashboard-note-shipped", r.order_notes.shipped),
                ("dashboard-note-delayed", r.order_notes.delayed),
                ("dashboard-note-delivered", r.order_notes.delivered),
                ("dashboard-note-cancelled", r.order_notes.cancelled),
                ("dashboard-note-refunded", r.order_notes.refunded),
            ])?)
        }
        section {
            h3 { (w.t("dashboard-report-feedback")?) }
            dl.figures {
                div { dt { (w.t("dashboard-feedback-count")?) } dd { (w.n(fb.count)?) } }
                div { dt { (w.t("dashboard-feedback-mean")?) } dd { (mean) } }
                div { dt { (w.t("dashboard-feedback-comments")?) } dd { (w.n(fb.comments)?) } }
                @for stars in 1..=5_i64 {
                    div {
                        dt { (w.with("dashboard-feedback-stars", &[("n", stars.into())])?) }
                        dd { (w.n(fb.distribution.get(&stars.to_string()).copied().unwrap_or(0))?) }
                    }
                }
            }
        }
        section {
            h3 { (w.t("dashboard-report-handoffs")?) }
            (figures(w, &[
                ("dashboard-handoffs-opened", r.handoffs.opened),
                ("dashboard-handoffs-answered", r.handoffs.answered_within_promise),
                ("dashboard-handoffs-open", r.handoffs.open),
            ])?)
        }
        section {
            h3 { (w.t("dashboard-report-codes")?) }
            (figures(w, &[
                ("dashboard-codes-sent", r.codes.sent),
                ("dashboard-codes-redeemed", r.codes.redeemed),
                ("dashboard-codes-violations", r.codes.violations),
            ])?)
        }
        section {
            h3 { (w.t("dashboard-report-advertising")?) }
            (figures(w, &[
                ("dashboard-ads-held", r.advertising.held_for_quiet_hours),
                ("dashboard-ads-postponed", r.advertising.postponed_by_cap),
                ("dashboard-ads-refused", r.advertising.refused_without_consent),
                ("dashboard-ads-expired", r.advertising.expired),
            ])?)
        }
        @if !r.messages_by_kind.is_empty() {
            section {
                h3 { (w.t("dashboard-report-kinds")?) }
                @for (kind, counts) in &r.messages_by_kind {
                    h4 { (kind_name(w, kind)?) }
                    (delivery(w, counts)?)
                }
            }
        }
        p { a href="/dashboard" { (w.t("dashboard-back")?) } }
    };
    layout(w, &title, true, body)
}

fn kind_name(w: &Words, kind: &str) -> Result<String, I18nError> {
    match kind {
        "transactional" => w.t("dashboard-kind-transactional"),
        "advertising" => w.t("dashboard-kind-advertising"),
        other => Ok(other.to_string()),
    }
}

pub fn tickets(w: &Words, lines: &[TicketLine]) -> ViewResult {
    let title = w.t("dashboard-tickets-title")?;
    let body = html! {
        h2 { (title) }
        section {
            @if lines.is_empty() {
                p.muted { (w.t("dashboard-tickets-empty")?) }
            } @else {
                p.muted { (w.t("dashboard-tickets-intro")?) }
                div.scroll { table {
                    thead { tr {
                        th { (w.t("dashboard-col-ticket")?) }
                        th { (w.t("dashboard-col-customer")?) }
                        th { (w.t("dashboard-col-reason")?) }
                        th { (w.t("dashboard-col-opened")?) }
                        th { (w.t("dashboard-col-promised")?) }
                        th { (w.t("dashboard-col-status")?) }
                    } }
                    tbody {
                        @for line in lines {
                            @let overdue = line.status == TicketStatus::Overdue;
                            tr class=[overdue.then_some("overdue")] {
                                td { "#" (line.ticket.id) }
                                td { (line.ticket.customer_id) }
                                td { (ticket_reason(w, &line.ticket.reason)?) }
                                td { (w.at(line.ticket.opened_at)) }
                                td { (w.at(line.promised_at)) }
                                td { (w.t(match line.status {
                                    TicketStatus::Overdue => "dashboard-ticket-overdue",
                                    TicketStatus::Waiting => "dashboard-ticket-waiting",
                                    TicketStatus::Answered => "dashboard-ticket-answered",
                                })?) }
                            }
                        }
                    }
                } }
            }
        }
    };
    layout(w, &title, true, body)
}

/// How the viewer asked for a person (`flows::handoff`), in words.
fn ticket_reason(w: &Words, reason: &str) -> Result<String, I18nError> {
    match reason {
        "words" | "button" | "command" => w.t(&format!("dashboard-ticket-via-{reason}")),
        other => Ok(other.to_string()),
    }
}

/// A flow's name for people; a flow this version has no name for shows as it is stored.
fn flow_name(w: &Words, flow: &str) -> Result<String, I18nError> {
    let id = format!("dashboard-flow-{flow}");
    if w.texts.has(w.lang, &id) {
        w.t(&id)
    } else {
        Ok(flow.to_string())
    }
}

fn hold_reason(w: &Words, reason: &str) -> Result<String, I18nError> {
    match reason {
        "quiet_hours" | "weekly_cap" | "send_window" | "action_retry" => {
            w.t(&format!("dashboard-hold-{reason}"))
        }
        other => w.with("dashboard-hold-other", &[("reason", Arg::from(other))]),
    }
}

pub fn held(w: &Words, held: &[HeldMessage], total: i64) -> ViewResult {
    let title = w.t("dashboard-held-title")?;
    let body = html! {
        h2 { (title) }
        section {
            @if held.is_empty() {
                p.muted { (w.t("dashboard-held-empty")?) }
            } @else {
                p { (w.with("dashboard-held-count", &[("count", total.into())])?) }
                div.scroll { table {
                    thead { tr {
                        th { (w.t("dashboard-col-id")?) }
                        th { (w.t("dashboard-col-message")?) }
                        th { (w.t("dashboard-col-kind")?) }
                        th { (w.t("dashboard-col-customer")?) }
                        th { (w.t("dashboard-col-reason")?) }
                        th { (w.t("dashboard-col-until")?) }
                    } }
                    tbody {
                        @for m in held {
                            tr {
                                td { "m" (m.id) }
                                td { (flow_name(w, &m.flow)?) }
                                td { (kind_name(w, &m.kind)?) }
                                td { (m.customer_id.as_deref().unwrap_or(&m.recipient)) }
                                td { (hold_reason(w, &m.reason)?) }
                                td { (w.at(m.until)) }
                            }
                        }
                    }
                } }
            }
        }
    };
    layout(w, &title, true, body)
}

fn lane_name(w: &Words, lane: i64) -> Result<String, I18nError> {
    match crate::domain::message::Lane::try_from_i64(lane) {
        Some(crate::domain::message::Lane::Interactive) => w.t("dashboard-lane-interactive"),
        Some(crate::domain::message::Lane::Staff) => w.t("dashboard-lane-staff"),
        Some(crate::domain::message::Lane::Bulk) => w.t("dashboard-lane-bulk"),
        None => Ok(lane.to_string()),
    }
}

fn state_name(w: &Words, state: &str) -> Result<String, I18nError> {
    match state {
        "queued" | "claimed" | "sending" => w.t(&format!("dashboard-state-{state}")),
        other => Ok(other.to_string()),
    }
}

fn queue_table(w: &Words, queue: &[QueueCount]) -> ViewResult {
    Ok(html! {
        div.scroll { table {
            thead { tr {
                th { (w.t("dashboard-col-lane")?) }
                th { (w.t("dashboard-col-state")?) }
                th.num { (w.t("dashboard-col-count")?) }
            } }
            tbody {
                @for q in queue {
                    tr {
                        td { (lane_name(w, q.lane)?) }
                        td { (state_name(w, &q.state)?) }
                        td.num { (w.n(q.count)?) }
                    }
                }
            }
        } }
    })
}

fn dead_letters(w: &Words, letters: &[DeadLetter]) -> ViewResult {
    Ok(html! {
        @if letters.is_empty() {
            p.muted { (w.t("dashboard-health-dead-letters-empty")?) }
        } @else {
            div.scroll { table {
                thead { tr {
                    th { (w.t("dashboard-col-id")?) }
                    th { (w.t("dashboard-col-platform")?) }
                    th { (w.t("dashboard-col-what")?) }
                    th { (w.t("dashboard-col-why")?) }
                    th { (w.t("dashboard-col-when")?) }
                } }
                tbody {
                    @for letter in letters {
                        tr {
                            td { (letter.id) }
                            td { (letter.platform) }
                            td { (letter.what) }
                            td { (letter.why) }
                            td { (w.at(letter.when)) }
                        }
                    }
                }
            } }
        }
    })
}

pub fn health(w: &Words, h: &Health) -> ViewResult {
    let title = w.t("dashboard-health-title")?;
    let depth: i64 = h.queue.iter().map(|q| q.count).sum();
    let body = html! {
        h2 { (title) }
        section {
            h3 { (w.t("dashboard-health-queue")?) }
            p { strong { (w.with("dashboard-health-depth", &[("count", depth.into())])?) } }
            @if !h.queue.is_empty() { (queue_table(w, &h.queue)?) }
        }
        section {
            h3 { (w.t("dashboard-health-rate-limited")?) }
            dl.figures {
                @for (platform, n) in &h.rate_limited {
                    div { dt { (platform) } dd { (w.n(*n)?) } }
                }
            }
        }
        section {
            h3 { (w.t("dashboard-health-unknown")?) }
            p { (w.with("dashboard-health-unknown-counts", &[
                ("finished", h.unknown_finished.into()),
                ("seen", h.unknown_seen.into()),
            ])?) }
        }
        section {
            h3 { (w.t("dashboard-health-dead-letters")?) " · " (w.n(h.dead_letters.len() as i64)?) }
            (dead_letters(w, &h.dead_letters)?)
        }
    };
    layout(w, &title, true, body)
}

/// The consent page: the search form, and the ledger of `customer` when one was asked for.
pub fn consent(w: &Words, customer: Option<&str>, entries: &[ConsentEntry]) -> ViewResult {
    let title = w.t("dashboard-consent-title")?;
    let body = html! {
        h2 { (title) }
        section {
            form.inline method="get" action="/dashboard/consent" {
                label for="customer" { (w.t("dashboard-consent-customer")?) }
                input #customer type="text" name="customer" value=[customer] maxlength="128" required;
                button type="submit" { (w.t("dashboard-consent-search")?) }
            }
        }
        @if let Some(customer) = customer {
            section {
                @if entries.is_empty() {
                    p.muted { (w.with("dashboard-consent-empty", &[("customer", Arg::from(customer))])?) }
                } @else {
                    h3 { (w.with("dashboard-consent-of", &[("customer", Arg::from(customer))])?) }
                    div.scroll { table {
                        thead { tr {
                            th { (w.t("dashboard-col-when")?) }
                            th { (w.t("dashboard-col-purpose")?) }
                            th { (w.t("dashboard-col-decision")?) }
                            th { (w.t("dashboard-col-source")?) }
                            th { (w.t("dashboard-col-method")?) }
                            th { (w.t("dashboard-col-wording")?) }
                        } }
                        tbody {
                            @for e in entries {
                                tr {
                                    td { (w.at(e.given_at)) }
                                    td { (w.t(match e.purpose {
                                        ConsentPurpose::Marketing => "dashboard-purpose-marketing",
                                        ConsentPurpose::Night => "dashboard-purpose-night",
                                    })?) }
                                    td { (w.t(if e.granted { "dashboard-consent-granted" } else { "dashboard-consent-withdrawn" })?) }
                                    td { (e.source) }
                                    td { (e.method) }
                                    td { (e.wording) }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    layout(w, &title, true, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::Flow;

    #[test]
    fn every_flow_has_a_name_on_the_dashboard_in_every_language() {
        let texts = Texts::load().expect("texts");
        for lang in Lang::ALL {
            for flow in Flow::ALL {
                let id = format!("dashboard-flow-{}", flow.as_str());
                assert!(texts.has(lang, &id), "{lang}: {id}");
            }
        }
    }
}
