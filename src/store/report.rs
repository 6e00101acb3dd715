//! The queries behind the broadcast report. Counts only; the report type lives in
//! `crate::report`.

use sqlx::Row;

use chrono::{DateTime, Utc};

use super::{Conn, Store, StoreResult, ts};
use crate::domain::OutboxState;
use crate::domain::keys::IdemKey;
use crate::report::{
    AdvertisingCounts, BroadcastReport, COMEBACK_CURVE_DAYS, CodeCounts, Comeback, ComebackCurve,
    ComebackGroup, DeliveryCounts, FeedbackCounts, PeriodReport, PollCounts, ReorderWindow,
    Reordered,
};

fn add_outcome(counts: &mut DeliveryCounts, state: &str, n: i64) {
    match state {
        "sent" => {
            counts.sent += n;
            counts.delivered += n;
        }
        "failed" | "unreachable" => {
            counts.sent += n;
            counts.failed += n;
        }
        "blocked" => {
            counts.sent += n;
            counts.blocked += n;
        }
        // Written, no answer (docs/delivery.md): sent, but neither delivered nor failed.
        "unknown" => counts.sent += n,
        _ => {}
    }
}

impl Store {
    /// None when the broadcast is unknown (no broadcast row and no orders).
    /// `promise_hours` is `policy.handoff_first_response_hours`: what "answered within the
    /// promise" is measured against. `now` decides which come-back windows are complete.
    pub async fn broadcast_report(
        &self,
        broadcast_id: &str,
        promise_hours: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<BroadcastReport>> {
        let mut conn = self.conn().await?;
        broadcast_report(&mut conn, broadcast_id, promise_hours, now).await
    }
}

/// The report, read inside the caller's connection (the staff command runs in a transaction).
pub async fn broadcast_report(
    conn: &mut Conn,
    broadcast_id: &str,
    promise_hours: i64,
    now: DateTime<Utc>,
) -> StoreResult<Option<BroadcastReport>> {
    let title: Option<Option<String>> =
        sqlx::query_scalar("SELECT title FROM broadcasts WHERE id = $1")
            .bind(broadcast_id)
            .fetch_optional(conn.db())
            .await?;
    let buyers = buyers_of(conn, broadcast_id, now).await?;
    let total = buyers.buyers();
    if title.is_none() && total == 0 {
        return Ok(None);
    }
    let linked = buyers.linked_buyers();
    let mut report = BroadcastReport {
        broadcast_id: broadcast_id.to_string(),
        title: title.flatten(),
        buyers: total,
        linked_buyers: linked,
        unlinked_buyers: total - linked,
        feedback: FeedbackCounts::empty(),
        comeback: comeback_of(&buyers.groups, buyers.end, now),
        ..BroadcastReport::default()
    };
    // Counted in SQL: a big live has one thank-you per buyer, and only the sent order notes'
    // keys are read (they name the status).
    let rows = sqlx::query(
        "SELECT flow, kind, state, platform, COUNT(*) AS n FROM outbox WHERE broadcast_id = $1
          GROUP BY flow, kind, state, platform",
    )
    .bind(broadcast_id)
    .fetch_all(conn.db())
    .await?;
    for row in rows {
        let flow: String = row.try_get("flow")?;
        let kind: String = row.try_get("kind")?;
        let state: String = row.try_get("state")?;
        let platform: Option<String> = row.try_get("platform")?;
        let n: i64 = row.try_get("n")?;
        add_outcome(report.messages_by_kind.entry(kind).or_default(), &state, n);
        if flow == "thank_you" {
            add_outcome(&mut report.thank_you, &state, n);
            let by_platform = &mut report.by_platform;
            match platform.as_deref() {
                Some("telegram") => add_outcome(&mut by_platform.telegram, &state, n),
                Some("discord") => add_outcome(&mut by_platform.discord, &state, n),
                Some("kakao") if state == OutboxState::NoTemplate.as_str() => {
                    by_platform.kakao.no_template += n;
                }
                Some("kakao") => add_outcome(&mut by_platform.kakao.delivery, &state, n),
                _ => {}
            }
        }
    }
    let note_keys: Vec<String> = sqlx::query_scalar(
        "SELECT idem_key FROM outbox WHERE broadcast_id = $1 AND flow = 'order_note' AND state = 'sent'",
    )
    .bind(broadcast_id)
    .fetch_all(conn.db())
    .await?;
    for key in note_keys {
        let notes = &mut report.order_notes;
        match IdemKey::order_note_status_of(&key).as_deref() {
            Some("shipped") => notes.shipped += 1,
            Some("delayed") => notes.delayed += 1,
            Some("delivered") => notes.delivered += 1,
            Some("cancelled") => notes.cancelled += 1,
            Some("refunded") => notes.refunded += 1,
            _ => {}
        }
    }
    fill_feedback(conn, &mut report).await?;
    fill_handoffs(conn, &mut report, promise_hours).await?;
    report.codes = broadcast_codes(conn, broadcast_id).await?;
    report.advertising = advertising_counts(conn, "broadcast_id = $1", broadcast_id).await?;
    report.picks = super::picks::pick_counts(conn, broadcast_id).await?;
    Ok(Some(report))
}

/// Whether a report exists for the broadcast: a broadcast row or an order in it — the same rule
/// by which [`broadcast_report`] answers `None`, without computing the report.
pub async fn broadcast_is_known(conn: &mut Conn, broadcast_id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM broadcasts WHERE id = $1
         UNION ALL SELECT 1 FROM orders WHERE broadcast_id = $1
         LIMIT 1",
    )
    .bind(broadcast_id)
    .fetch_optional(conn.db())
    .await?;
    Ok(found.is_some())
}

/// When a broadcast counts as over for the come-back block: its `ended_at`, else its last
/// order (a broadcast the shop never ended), else never.
async fn broadcast_end(conn: &mut Conn, broadcast_id: &str) -> StoreResult<Option<DateTime<Utc>>> {
    let end: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE(
                  (SELECT ended_at FROM broadcasts WHERE id = $1),
                  (SELECT MAX(placed_at) FROM orders WHERE broadcast_id = $1))",
    )
    .bind(broadcast_id)
    .fetch_one(conn.db())
    .await?;
    end.as_deref().map(super::parse_ts).transpose()
}

/// Buyers of the broadcast who share the same answers, counted together: linked or not, when
/// they first ordered again (if they did, within 90 days), how many of them watched the next live.
struct BuyerGroup {
    linked: bool,
    /// Their first order after the end, within 90 days (an order of this broadcast placed late
    /// is not a come-back).
    first_reorder_at: Option<DateTime<Utc>>,
    buyers: i64,
    watched_next_live: i64,
}

/// The broadcast's buyers, grouped, with the end the come-back block is measured from.
struct Buyers {
    end: Option<DateTime<Utc>>,
    groups: Vec<BuyerGroup>,
}

impl Buyers {
    fn buyers(&self) -> i64 {
        self.groups.iter().map(|g| g.buyers).sum()
    }

    fn linked_buyers(&self) -> i64 {
        self.groups
            .iter()
            .filter(|g| g.linked)
            .map(|g| g.buyers)
            .sum()
    }
}

/// The broadcast's buyers in one set-based query (the counts at the top of the report and the
/// come-back block), grouped in SQL so a live with 100,000 buyers returns a few thousand rows at
/// most. Uncorrelated `IN` lists let both engines hash them once (docs/benchmarks.md).
async fn buyers_of(conn: &mut Conn, broadcast_id: &str, now: DateTime<Utc>) -> StoreResult<Buyers> {
    let end = broadcast_end(conn, broadcast_id).await?;
    // Without an end nothing is a come-back yet: a window that closes before any order.
    let (from, horizon) = match end {
        Some(end) => (
            end,
            end + chrono::Duration::days(COMEBACK_CURVE_DAYS as i64),
        ),
        None => (now, now),
    };
    // The next live: the first broadcast that started after this one ended (a scheduled start
    // stands in for a shop that never sent `broadcast.started`).
    let next: Option<String> = match end {
        Some(end) => {
            sqlx::query_scalar(
                "SELECT id FROM broadcasts
                  WHERE id <> $1 AND COALESCE(started_at, starts_at) > $2
                  ORDER BY COALESCE(started_at, starts_at), id LIMIT 1",
            )
            .bind(broadcast_id)
            .bind(ts(end))
            .fetch_optional(conn.db())
            .await?
        }
        None => None,
    };
    // Linked: an identity, or — for a forgotten buyer — a tombstone saying they had one, so
    // forgetting someone changes no count (CONTRACT §6). A link made after the end counts too:
    // a shop's history can only be linked now, and encore keeps no record of links undone
    // (docs/reports.md).
    let rows = sqlx::query(
        "SELECT CAST(linked AS BIGINT) AS linked, first_reorder_at, COUNT(*) AS buyers,
                CAST(SUM(watched) AS BIGINT) AS watched
           FROM (SELECT
                   CASE WHEN b.customer_id IN (SELECT customer_id FROM identities)
                          OR b.customer_id IN (SELECT pseudonym FROM tombstones WHERE was_linked = 1)
                        THEN 1 ELSE 0 END AS linked,
                   r.first_reorder_at,
                   CASE WHEN b.customer_id IN (SELECT customer_id FROM broadcast_viewers WHERE broadcast_id = $4)
                          OR b.customer_id IN (SELECT customer_id FROM orders WHERE broadcast_id = $4)
                        THEN 1 ELSE 0 END AS watched
                 FROM (SELECT DISTINCT customer_id FROM orders WHERE broadcast_id = $1) b
                 LEFT JOIN (SELECT o.customer_id, MIN(o.placed_at) AS first_reorder_at FROM orders o
                             WHERE o.placed_at > $2 AND o.placed_at <= $3
                               AND (o.broadcast_id IS NULL OR o.broadcast_id <> $1)
                               AND o.customer_id IN (SELECT customer_id FROM orders WHERE broadcast_id = $1)
                             GROUP BY o.customer_id) r
                   ON r.customer_id = b.customer_id) x
          GROUP BY linked, first_reorder_at",
    )
    .bind(broadcast_id)
    .bind(ts(from))
    .bind(ts(horizon))
    .bind(next.as_deref().unwrap_or(""))
    .fetch_all(conn.db())
    .await?;
    let mut groups = Vec::with_capacity(rows.len());
    for row in rows {
        let linked: i64 = row.try_get("linked")?;
        let first: Option<String> = row.try_get("first_reorder_at")?;
        groups.push(BuyerGroup {
            linked: linked == 1,
            first_reorder_at: first.as_deref().map(super::parse_ts).transpose()?,
            buyers: row.try_get("buyers")?,
            watched_next_live: row.try_get("watched")?,
        });
    }
    Ok(Buyers { end, groups })
}

/// The counting rule, apart from the SQL: a buyer came back within N days when their first
/// order after the end was placed at most N days after it.
fn comeback_of(groups: &[BuyerGroup], end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Comeback {
    // Buyers (of one group, or all) whose first re-order came at most `days` after the end.
    let came_back = |linked: Option<bool>, days: i64| -> i64 {
        let Some(end) = end else {
            return 0;
        };
        let limit = end + chrono::Duration::days(days);
        groups
            .iter()
            .filter(|g| linked.is_none_or(|l| g.linked == l))
            .filter(|g| g.first_reorder_at.is_some_and(|at| at <= limit))
            .map(|g| g.buyers)
            .sum()
    };
    let within = |days: i64| ReorderWindow {
        count: came_back(None, days),
        complete: end.is_some_and(|end| now >= end + chrono::Duration::days(days)),
    };
    let group = |linked: bool| ComebackGroup {
        buyers: groups
            .iter()
            .filter(|g| g.linked == linked)
            .map(|g| g.buyers)
            .sum(),
        reordered_30d: came_back(Some(linked), 30),
    };
    let curve_of = |linked: bool| -> Vec<i64> {
        let mut per_day = vec![0i64; COMEBACK_CURVE_DAYS + 1];
        if let Some(end) = end {
            for g in groups.iter().filter(|g| g.linked == linked) {
                if let Some(at) = g.first_reorder_at {
                    // Day d holds re-orders placed more than d-1 and at most d days after the
                    // end (day 0: at the end itself, which the query excludes).
                    let secs = (at - end).num_seconds().max(0) as u64;
                    let day = secs.div_ceil(86_400) as usize;
                    if let Some(slot) = per_day.get_mut(day) {
                        *slot += g.buyers;
                    }
                }
            }
        }
        per_day
            .iter()
            .scan(0i64, |total, n| {
                *total += n;
                Some(*total)
            })
            .collect()
    };
    Comeback {
        reordered: Reordered {
            within_7_days: within(7),
            within_30_days: within(30),
            within_90_days: within(90),
        },
        linked: group(true),
        unlinked: group(false),
        watched_next_live: groups.iter().map(|g| g.watched_next_live).sum(),
        curve: ComebackCurve {
            linked: curve_of(true),
            unlinked: curve_of(false),
        },
    }
}

/// `viewer.engaged`: remember that the customer watched the broadcast (the come-back block's
/// "watched the next live"). The first time is kept.
pub async fn record_viewer(
    conn: &mut Conn,
    broadcast_id: &str,
    customer_id: &str,
    seen_at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO broadcast_viewers (broadcast_id, customer_id, first_seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (broadcast_id, customer_id) DO UPDATE
           SET first_seen_at = CASE WHEN excluded.first_seen_at < broadcast_viewers.first_seen_at
                                    THEN excluded.first_seen_at ELSE broadcast_viewers.first_seen_at END",
    )
    .bind(broadcast_id)
    .bind(customer_id)
    .bind(ts(seen_at))
    .execute(conn.db())
    .await?;
    Ok(())
}

/// Codes around one broadcast: code messages delivered to its buyers, and redemptions on its
/// orders (violations: by a customer the code was not sent to).
async fn broadcast_codes(conn: &mut Conn, broadcast_id: &str) -> StoreResult<CodeCounts> {
    let row = sqlx::query(
        "SELECT
           (SELECT COUNT(*) FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
             WHERE o.state = 'sent'
               AND s.customer_id IN (SELECT customer_id FROM orders WHERE broadcast_id = $1)) AS sent,
           (SELECT COUNT(*) FROM code_redemptions r JOIN orders o ON o.id = r.order_id
             WHERE o.broadcast_id = $1) AS redeemed,
           (SELECT COUNT(*) FROM code_redemptions r JOIN orders o ON o.id = r.order_id
             WHERE o.broadcast_id = $1 AND r.violation = 1) AS violations",
    )
    .bind(broadcast_id)
    .fetch_one(conn.db())
    .await?;
    Ok(CodeCounts {
        sent: row.try_get("sent")?,
        redeemed: row.try_get("redeemed")?,
        violations: row.try_get("violations")?,
    })
}

/// What the send gate did with advertising matching `filter` (a condition on outbox rows
/// with `$1` as its one parameter).
async fn advertising_counts(
    conn: &mut Conn,
    filter: &str,
    value: &str,
) -> StoreResult<AdvertisingCounts> {
    let sql = format!(
        "SELECT
           COALESCE(SUM(CASE WHEN held_for_quiet_hours = 1 THEN 1 ELSE 0 END), 0) AS held,
           COALESCE(SUM(CASE WHEN postponed_by_cap = 1 THEN 1 ELSE 0 END), 0) AS postponed,
           COALESCE(SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END), 0) AS refused,
           COALESCE(SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END), 0) AS expired
         FROM outbox WHERE kind = 'advertising' AND {filter}"
    );
    let row = sqlx::query(&sql).bind(value).fetch_one(conn.db()).await?;
    Ok(AdvertisingCounts {
        held_for_quiet_hours: row.try_get("held")?,
        postponed_by_cap: row.try_get("postponed")?,
        refused_without_consent: row.try_get("refused")?,
        expired: row.try_get("expired")?,
    })
}

impl Store {
    /// The period report (CONTRACT §7): what belongs to no broadcast, since `since`.
    pub async fn period_report(&self, since: DateTime<Utc>) -> StoreResult<PeriodReport> {
        let campaigns = self.codes_by_campaign(since).await?;
        let journeys = self.journey_outcomes(since).await?;
        let mut conn = self.conn().await?;
        let row = sqlx::query(
            "SELECT
               (SELECT COUNT(*) FROM code_sends s JOIN outbox o ON o.idem_key = s.message_key
                 WHERE o.state = 'sent' AND o.sent_at >= $1) AS sent,
               (SELECT COUNT(*) FROM code_redemptions WHERE redeemed_at >= $1) AS redeemed,
               (SELECT COUNT(*) FROM code_redemptions WHERE redeemed_at >= $1 AND violation = 1) AS violations",
        )
        .bind(ts(since))
        .fetch_one(conn.db())
        .await?;
        let codes = CodeCounts {
            sent: row.try_get("sent")?,
            redeemed: row.try_get("redeemed")?,
            violations: row.try_get("violations")?,
        };
        let advertising = advertising_counts(
            &mut conn,
            "broadcast_id IS NULL AND created_at >= $1",
            &ts(since),
        )
        .await?;
        let (asked, closed, votes) = super::polls::counts_since(&mut conn, since).await?;
        Ok(PeriodReport {
            since: ts(since),
            codes,
            campaigns,
            journeys,
            advertising,
            polls: PollCounts {
                asked,
                closed,
                votes,
            },
        })
    }
}

async fn fill_feedback(conn: &mut Conn, report: &mut BroadcastReport) -> StoreResult<()> {
    let entries = super::feedback::on_broadcast(conn, &report.broadcast_id).await?;
    // Comments removed by forgetting were comments all the same (CONTRACT §6: counts stay).
    let removed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM feedback WHERE subject = 'broadcast' AND subject_id = $1 AND comment_removed = 1",
    )
    .bind(&report.broadcast_id)
    .fetch_one(conn.db())
    .await?;
    let fb = &mut report.feedback;
    for entry in &entries {
        *fb.distribution.entry(entry.rating.to_string()).or_default() += 1;
        if entry
            .comment
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
        {
            fb.comments += 1;
        }
    }
    fb.comments += removed;
    fb.count = entries.len() as i64;
    if fb.count > 0 {
        let sum: i64 = entries.iter().map(|e| e.rating).sum();
        // One decimal, as people read a mean rating.
        fb.mean = Some((sum as f64 / fb.count as f64 * 10.0).round() / 10.0);
    }
    Ok(())
}

async fn fill_handoffs(
    conn: &mut Conn,
    report: &mut BroadcastReport,
    promise_hours: i64,
) -> StoreResult<()> {
    let tickets = super::tickets::of_broadcast(conn, &report.broadcast_id).await?;
    let promise = chrono::Duration::hours(promise_hours);
    let h = &mut report.handoffs;
    h.opened = tickets.len() as i64;
    h.open = tickets.iter().filter(|t| t.closed_at.is_none()).count() as i64;
    h.answered_within_promise = tickets
        .iter()
        .filter(|t| {
            t.first_response_at
                .is_some_and(|at| at - t.opened_at <= promise)
        })
        .count() as i64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buyer(linked: bool, after: Option<chrono::Duration>, end: DateTime<Utc>) -> BuyerGroup {
        BuyerGroup {
            linked,
            first_reorder_at: after.map(|d| end + d),
            buyers: 1,
            watched_next_live: 0,
        }
    }

    #[test]
    fn a_reorder_exactly_seven_days_after_counts_in_the_week_and_one_second_later_does_not() {
        let end = Utc::now() - chrono::Duration::days(8);
        let week = chrono::Duration::days(7);
        let buyers = [
            buyer(true, Some(week), end),
            buyer(false, Some(week + chrono::Duration::seconds(1)), end),
            buyer(false, None, end),
        ];
        let c = comeback_of(&buyers, Some(end), Utc::now());
        assert_eq!(c.reordered.within_7_days.count, 1);
        assert!(c.reordered.within_7_days.complete);
        assert_eq!(c.reordered.within_30_days.count, 2);
        assert!(!c.reordered.within_30_days.complete);
        assert_eq!(c.curve.linked[6], 0);
        assert_eq!(c.curve.linked[7], 1);
        assert_eq!(c.curve.unlinked[7], 0);
        assert_eq!(c.curve.unlinked[8], 1);
        assert_eq!(c.unlinked.buyers, 2);
        assert_eq!(c.unlinked.reordered_30d, 1);
    }

    #[test]
    fn a_broadcast_without_an_end_has_no_windows_closed_and_an_empty_curve() {
        let buyers = [buyer(true, None, Utc::now())];
        let c = comeback_of(&buyers, None, Utc::now());
        assert_eq!(c.reordered.within_90_days, ReorderWindow::default());
        assert_eq!(c.linked.buyers, 1);
        assert_eq!(c.curve.linked, vec![0; COMEBACK_CURVE_DAYS + 1]);
    }
}
