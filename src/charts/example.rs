//! An example report to draw, made up but shaped like a real one.

use std::collections::BTreeMap;

use crate::report::{
    BroadcastReport, ComebackCurve, ComebackGroup, DeliveryCounts, FeedbackCounts, ReorderWindow,
    Reordered,
};

/// A report with the figures of CONTRACT §7's example (130 buyers, 120 linked, 37 ratings, 12 /
/// 40 / 55 buyers back within 7 / 30 / 90 days) and a come-back curve to match: the README's
/// picture (`encore-bench chart --png`), the chart bench and the tests draw it.
pub fn example_report() -> BroadcastReport {
    let mut report = BroadcastReport {
        broadcast_id: "live-1".into(),
        title: Some("겨울 아우터 라이브".into()),
        buyers: 130,
        linked_buyers: 120,
        unlinked_buyers: 10,
        thank_you: DeliveryCounts {
            sent: 118,
            delivered: 115,
            failed: 1,
            blocked: 2,
        },
        feedback: FeedbackCounts {
            count: 37,
            mean: Some(4.3),
            distribution: BTreeMap::from(
                [("1", 1), ("2", 1), ("3", 4), ("4", 9), ("5", 22)]
                    .map(|(k, v)| (k.to_string(), v)),
            ),
            comments: 12,
        },
        ..BroadcastReport::default()
    };
    report.comeback.linked = ComebackGroup {
        buyers: 120,
        reordered_30d: 38,
    };
    report.comeback.unlinked = ComebackGroup {
        buyers: 10,
        reordered_30d: 2,
    };
    // The come-back figures of CONTRACT §7's example: 12, 40 and 55 buyers ordered again
    // within 7, 30 and 90 days.
    report.comeback.reordered = Reordered {
        within_7_days: ReorderWindow {
            count: 12,
            complete: true,
        },
        within_30_days: ReorderWindow {
            count: 40,
            complete: true,
        },
        within_90_days: ReorderWindow {
            count: 55,
            complete: true,
        },
    };
    report.comeback.watched_next_live = 44;
    report.comeback.curve = ComebackCurve {
        linked: (0..=90_i64)
            .map(|d| match d {
                0..=7 => d * 11 / 7,
                8..=30 => 11 + (d - 7) * 27 / 23,
                _ => 38 + (d - 30) * 14 / 60,
            })
            .collect(),
        unlinked: (0..=90_i64)
            .map(|d| match d {
                0..=4 => 0,
                5..=19 => 1,
                20..=59 => 2,
                _ => 3,
            })
            .collect(),
    };
    report
}
