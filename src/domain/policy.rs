//! When a message may go out (CONTRACT §6): quiet hours, the journey send window, the weekly
//! advertising cap, expiry and consent, and which day is a customer's birthday.
//!
//! Everything here is shop time (`[shop] timezone`) turned into UTC instants, so the dispatcher
//! and the scheduler can store and compare plain `DateTime<Utc>`. A local time that a DST change
//! skips resolves to the first instant after the gap; one that it repeats resolves to the
//! earliest of its instants that is still ahead.

use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::config::{PolicyConfig, TimeRange};

/// The longest stretch of local time a zone has ever skipped (Samoa left out 30 December 2011).
const LONGEST_GAP_MINUTES: i64 = 24 * 60;

/// Whether `at` (shop time) falls inside `range`: the start is inside, the end is not, and a
/// range that wraps midnight (`21:00-08:00`) covers the late evening and the early morning.
pub fn contains(range: &TimeRange, at: NaiveTime) -> bool {
    range.contains(at)
}

/// When `now` (shop time) is inside `range`, the instant the range ends; `None` when outside.
pub fn end_of_range(range: &TimeRange, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz).naive_local();
    if !range.contains(local.time()) {
        return None;
    }
    // Inside a wrapping range before midnight, the end is tomorrow morning; otherwise today.
    let wraps = range.start >= range.end;
    let end_date = if wraps && local.time() >= range.start {
        next_day(local.date())
    } else {
        local.date()
    };
    Some(first_instant_after(tz, end_date.and_time(range.end), now))
}

/// `None` when `now` (shop time) is inside `window`; otherwise the next instant it opens.
pub fn next_inside(window: &TimeRange, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz).naive_local();
    if window.contains(local.time()) {
        return None;
    }
    // Outside the window, the next start is later today if it has not come yet, else tomorrow.
    let start_date = if local.time() < window.start {
        local.date()
    } else {
        next_day(local.date())
    };
    Some(first_instant_after(
        tz,
        start_date.and_time(window.start),
        now,
    ))
}

/// Monday 00:00 (shop time) of the calendar week that holds `now`.
pub fn week_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let monday = monday_of(now, tz);
    earliest_instant(tz, monday.and_time(NaiveTime::MIN))
}

/// Monday 00:00 (shop time) of the calendar week after the one that holds `now`.
pub fn next_week_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let monday = monday_of(now, tz);
    let next_monday = monday.checked_add_days(Days::new(7)).unwrap_or(monday);
    first_instant_after(tz, next_monday.and_time(NaiveTime::MIN), now)
}

/// Reads a birthday `"MM-DD"` (two digits each) into `(month, day)`; 02-29 is a valid birthday.
pub fn parse_birthday(s: &str) -> Option<(u32, u32)> {
    let bytes = s.as_bytes();
    let shaped = bytes.len() == 5
        && bytes[2] == b'-'
        && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !shaped {
        return None;
    }
    let month: u32 = s.get(0..2)?.parse().ok()?;
    let day: u32 = s.get(3..5)?.parse().ok()?;
    // 2000 is a leap year, so every day that is some year's birthday is accepted.
    NaiveDate::from_ymd_opt(2000, month, day)?;
    Some((month, day))
}

/// Whether `today` (shop date) is the day to celebrate `birthday` (`"MM-DD"`). A 02-29 birthday
/// is celebrated on 02-28 in years without a 29 February, and only on 02-29 in leap years.
pub fn birthday_today(birthday: &str, today: NaiveDate) -> bool {
    let Some((month, day)) = parse_birthday(birthday) else {
        return false;
    };
    let (month, day) = if (month, day) == (2, 29) && !today.leap_year() {
        (2, 28)
    } else {
        (month, day)
    };
    today.month() == month && today.day() == day
}

/// What the viewer's record says, as far as advertising is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdFacts {
    /// The latest recorded marketing consent is yes.
    pub marketing_consent: bool,
    /// The viewer agreed to advertising during quiet hours.
    pub night_consent: bool,
    /// Advertising already sent to this customer in the current calendar week (shop time).
    pub sent_this_week: u32,
    /// When the message stops being worth sending; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What to do with an advertising message right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// It may go out now.
    Send,
    /// No marketing consent (or the shop sends no advertising at all): cancel it.
    Refuse,
    /// Past its expiry: drop it and count it, never send it late.
    Expire,
    /// Quiet hours: keep it until they end.
    Hold { until: DateTime<Utc> },
    /// The weekly cap is reached: keep it until next week (past quiet hours, when they apply).
    Postpone { until: DateTime<Utc> },
}

/// Whether an advertising message may go out at `now`, checked in this order: expiry, consent,
/// the weekly cap, quiet hours. A `Hold` or `Postpone` past `expires_at` is not special-cased:
/// asking again at that time answers `Expire`.
pub fn advertising_gate(
    facts: &AdFacts,
    now: DateTime<Utc>,
    tz: Tz,
    policy: &PolicyConfig,
) -> Gate {
    if facts.expires_at.is_some_and(|expires_at| expires_at <= now) {
        return Gate::Expire;
    }
    // A cap of 0 means the shop sends no advertising; postponing week after week would only
    // pile messages up, so it is refused like a message without consent.
    if !facts.marketing_consent || policy.marketing_per_week == 0 {
        return Gate::Refuse;
    }
    let held_at_night = |at: DateTime<Utc>| {
        if facts.night_consent {
            None
        } else {
            end_of_range(&policy.quiet_hours, at, tz)
        }
    };
    if facts.sent_this_week >= policy.marketing_per_week {
        let next_week = next_week_start(now, tz);
        // Monday 00:00 is usually inside quiet hours: name the instant it can really go, so the
        // message is not woken only to be held again.
        let until = held_at_night(next_week).map_or(next_week, |end| end.max(next_week));
        return Gate::Postpone { until };
    }
    match held_at_night(now) {
        Some(until) => Gate::Hold { until },
        None => Gate::Send,
    }
}

/// `None` when a journey message may go out now; otherwise when the send window next opens.
pub fn journey_window(policy: &PolicyConfig, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    next_inside(&policy.send_window, now, tz)
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.succ_opt().unwrap_or(date)
}

fn monday_of(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    let since_monday = u64::from(today.weekday().num_days_from_monday());
    today
        .checked_sub_days(Days::new(since_monday))
        .unwrap_or(today)
}

/// Every instant whose shop time is `local`, earliest first: none inside a DST gap, two in a
/// fold.
fn instants_of(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    let result = tz.from_local_datetime(&local);
    let mut instants: Vec<DateTime<Utc>> = result
        .earliest()
        .into_iter()
        .chain(result.latest())
        .map(|t| t.with_timezone(&Utc))
        .collect();
    instants.dedup();
    instants
}

/// The instants of `local`, or, when a DST gap skips it, the instant the gap ends (the first
/// local minute after it that exists).
fn instants_at_or_after(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    for minutes in 0..=LONGEST_GAP_MINUTES {
        let Some(candidate) = local.checked_add_signed(Duration::minutes(minutes)) else {
            break;
        };
        let instants = instants_of(tz, candidate);
        if !instants.is_empty() {
            return instants;
        }
    }
    // No zone skips more than a day; read the time as if it were UTC rather than fail.
    vec![local.and_utc()]
}

/// The earliest instant at or after shop time `local`.
fn earliest_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let instants = instants_at_or_after(tz, local);
    instants.first().copied().unwrap_or_else(|| local.and_utc())
}

/// The earliest instant at or after shop time `local` that is later than `after`. In a fold
/// (`01:30` twice), this skips the first `01:30` when `after` is already past it.
fn first_instant_after(tz: Tz, local: NaiveDateTime, after: DateTime<Utc>) -> DateTime<Utc> {
    let instants = instants_at_or_after(tz, local);
    instants
        .iter()
        .copied()
        .find(|t| *t > after)
        .or_else(|| instants.last().copied())
        .unwrap_or_else(|| local.and_utc())
}

/// A day in shop time, as texts name it: `2026-12-01`.
pub fn shop_day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

/// A moment in shop time, to the minute: `2026-12-01 20:00`.
pub fn shop_minute(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEOUL: Tz = chrono_tz::Asia::Seoul;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn range(s: &str) -> TimeRange {
        TimeRange::parse(s).unwrap()
    }

    fn hm(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    /// A shop-time moment as UTC; panics on a gap or fold, so tests say which instant they mean.
    fn at(tz: Tz, s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&local)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts() -> AdFacts {
        AdFacts {
            marketing_consent: true,
            night_consent: false,
            sent_this_week: 0,
            expires_at: None,
        }
    }

    #[test]
    fn wrapping_and_plain_ranges_include_the_start_and_exclude_the_end() {
        let quiet = range("21:00-08:00");
        assert!(contains(&quiet, hm(21, 0)));
        assert!(contains(&quiet, hm(23, 59)));
        assert!(contains(&quiet, hm(0, 0)));
        assert!(contains(&quiet, hm(7, 59)));
        assert!(!contains(&quiet, hm(8, 0)));
        assert!(!contains(&quiet, hm(20, 59)));

        let window = range("09:00-20:00");
        assert!(contains(&window, hm(9, 0)));
        assert!(contains(&window, hm(19, 59)));
        assert!(!contains(&window, hm(20, 0)));
        assert!(!contains(&window, hm(8, 59)));
        assert!(!contains(&window, hm(0, 0)));
    }

    #[test]
    fn a_range_ends_today_or_tomorrow_depending_on_which_side_of_midnight() {
        let quiet = range("21:00-08:00");
        assert_eq!(
            end_of_range(&quiet, at(SEOUL, "2025-03-10 22:30"), SEOUL),
            Some(at(SEOUL, "2025-03-11 08:00"))
        );
        assert_eq!(
            end_of_range(&quiet, at(SEOUL, "2025-03-11 03:00"), SEOUL),
            Some(at(SEOUL, "2025-03-11 08:00"))
        );
        assert_eq!(
            end_of_range(&quiet, at(SEOUL, "2025-03-11 08:00"), SEOUL),
            None
        );

        let lunch = range("12:00-13:00");
        assert_eq!(
            end_of_range(&lunch, at(SEOUL, "2025-03-11 12:15"), SEOUL),
            Some(at(SEOUL, "2025-03-11 13:00"))
        );
        assert_eq!(
            end_of_range(&lunch, at(SEOUL, "2025-03-11 13:00"), SEOUL),
            None
        );
    }

    #[test]
    fn the_window_opens_later_today_or_tomorrow() {
        let window = range("09:00-20:00");
        assert_eq!(
            next_inside(&window, at(SEOUL, "2025-03-11 10:00"), SEOUL),
            None
        );
        assert_eq!(
            next_inside(&window, at(SEOUL, "2025-03-11 07:00"), SEOUL),
            Some(at(SEOUL, "2025-03-11 09:00"))
        );
        assert_eq!(
            next_inside(&window, at(SEOUL, "2025-03-11 20:00"), SEOUL),
            Some(at(SEOUL, "2025-03-12 09:00"))
        );

        let night_window = range("22:00-02:00");
        assert_eq!(
            next_inside(&night_window, at(SEOUL, "2025-03-11 01:00"), SEOUL),
            None
        );
        assert_eq!(
            next_inside(&night_window, at(SEOUL, "2025-03-11 02:00"), SEOUL),
            Some(at(SEOUL, "2025-03-11 22:00"))
        );
    }

    #[test]
    fn dst_gaps_resolve_to_the_end_of_the_gap_and_folds_to_the_instant_ahead() {
        // 2025-03-09: New York skips 02:00-03:00 (EST -5 to EDT -4).
        let window = range("02:30-05:00");
        assert_eq!(
            next_inside(&window, at(NEW_YORK, "2025-03-09 01:00"), NEW_YORK),
            Some(utc("2025-03-09T07:00:00Z")) // 03:00 EDT
        );
        let quiet = range("21:00-02:30");
        assert_eq!(
            end_of_range(&quiet, at(NEW_YORK, "2025-03-08 23:00"), NEW_YORK),
            Some(utc("2025-03-09T07:00:00Z"))
        );

        // 2025-11-02: New York repeats 01:00-02:00 (EDT -4 to EST -5).
        let quiet = range("21:00-01:30");
        let first_pass = utc("2025-11-02T05:15:00Z"); // 01:15 EDT
        let second_pass = utc("2025-11-02T06:15:00Z"); // 01:15 EST
        assert_eq!(
            end_of_range(&quiet, first_pass, NEW_YORK),
            Some(utc("2025-11-02T05:30:00Z"))
        );
        assert_eq!(
            end_of_range(&quiet, second_pass, NEW_YORK),
            Some(utc("2025-11-02T06:30:00Z"))
        );

        // Quiet hours across the spring-forward night are one hour shorter in UTC.
        let quiet = range("21:00-08:00");
        assert_eq!(
            end_of_range(&quiet, at(NEW_YORK, "2025-03-08 22:30"), NEW_YORK),
            Some(utc("2025-03-09T12:00:00Z"))
        );
    }

    #[test]
    fn weeks_run_monday_to_sunday_in_shop_time() {
        // 2025-03-16 is a Sunday.
        let sunday_night = at(SEOUL, "2025-03-16 23:00");
        assert_eq!(
            week_start(sunday_night, SEOUL),
            at(SEOUL, "2025-03-10 00:00")
        );
        assert_eq!(
            next_week_start(sunday_night, SEOUL),
            at(SEOUL, "2025-03-17 00:00")
        );
        let monday_midnight = at(SEOUL, "2025-03-17 00:00");
        assert_eq!(week_start(monday_midnight, SEOUL), monday_midnight);
        assert_eq!(
            next_week_start(monday_midnight, SEOUL),
            at(SEOUL, "2025-03-24 00:00")
        );
        // The week is the shop's: the same instant is Sunday morning in New York.
        assert_eq!(
            next_week_start(sunday_night, NEW_YORK),
            at(NEW_YORK, "2025-03-17 00:00")
        );
        // A week across the spring-forward Sunday is 167 hours long.
        assert_eq!(
            next_week_start(at(NEW_YORK, "2025-03-05 12:00"), NEW_YORK)
                - week_start(at(NEW_YORK, "2025-03-05 12:00"), NEW_YORK),
            Duration::hours(167)
        );
    }

    #[test]
    fn birthdays_are_month_and_day_and_02_29_moves_to_02_28_outside_leap_years() {
        assert_eq!(parse_birthday("02-29"), Some((2, 29)));
        assert_eq!(parse_birthday("12-31"), Some((12, 31)));
        for bad in [
            "2-29",
            "02-30",
            "13-01",
            "00-10",
            "02/28",
            "02-2",
            "+2-28",
            "",
            "가나다",
        ] {
            assert_eq!(parse_birthday(bad), None, "{bad}");
        }

        assert!(birthday_today("02-29", date("2027-02-28")));
        assert!(!birthday_today("02-29", date("2027-03-01")));
        assert!(birthday_today("02-29", date("2028-02-29")));
        assert!(!birthday_today("02-29", date("2028-02-28")));
        assert!(birthday_today("02-28", date("2028-02-28")));
        assert!(birthday_today("07-04", date("2027-07-04")));
        assert!(!birthday_today("07-04", date("2027-07-05")));
        assert!(!birthday_today("nonsense", date("2027-07-04")));
    }

    #[test]
    fn quiet_hours_hold_advertising_until_they_end() {
        let policy = PolicyConfig::default();
        assert_eq!(
            advertising_gate(&facts(), at(SEOUL, "2025-03-11 22:30"), SEOUL, &policy),
            Gate::Hold {
                until: at(SEOUL, "2025-03-12 08:00")
            }
        );
        assert_eq!(
            advertising_gate(&facts(), at(SEOUL, "2025-03-12 07:59"), SEOUL, &policy),
            Gate::Hold {
                until: at(SEOUL, "2025-03-12 08:00")
            }
        );
        assert_eq!(
            advertising_gate(&facts(), at(SEOUL, "2025-03-12 08:00"), SEOUL, &policy),
            Gate::Send
        );
        let night_owl = AdFacts {
            night_consent: true,
            ..facts()
        };
        assert_eq!(
            advertising_gate(&night_owl, at(SEOUL, "2025-03-11 22:30"), SEOUL, &policy),
            Gate::Send
        );
    }

    #[test]
    fn over_the_weekly_cap_advertising_waits_for_next_week_past_quiet_hours() {
        let policy = PolicyConfig::default();
        let capped = AdFacts {
            sent_this_week: policy.marketing_per_week,
            ..facts()
        };
        let sunday_night = at(SEOUL, "2025-03-16 23:00");
        assert_eq!(
            advertising_gate(&capped, sunday_night, SEOUL, &policy),
            Gate::Postpone {
                until: at(SEOUL, "2025-03-17 08:00")
            }
        );
        let night_owl = AdFacts {
            night_consent: true,
            ..capped
        };
        assert_eq!(
            advertising_gate(&night_owl, sunday_night, SEOUL, &policy),
            Gate::Postpone {
                until: at(SEOUL, "2025-03-17 00:00")
            }
        );
        let below_cap = AdFacts {
            sent_this_week: policy.marketing_per_week - 1,
            ..facts()
        };
        assert_eq!(
            advertising_gate(&below_cap, at(SEOUL, "2025-03-16 12:00"), SEOUL, &policy),
            Gate::Send
        );
    }

    #[test]
    fn expiry_comes_before_consent_and_consent_before_everything_else() {
        let policy = PolicyConfig::default();
        let now = at(SEOUL, "2025-03-11 22:30");
        let expired = AdFacts {
            marketing_consent: false,
            sent_this_week: 99,
            expires_at: Some(now),
            ..facts()
        };
        assert_eq!(
            advertising_gate(&expired, now, SEOUL, &policy),
            Gate::Expire
        );
        let not_yet_expired = AdFacts {
            expires_at: Some(now + Duration::seconds(1)),
            ..facts()
        };
        assert!(matches!(
            advertising_gate(&not_yet_expired, now, SEOUL, &policy),
            Gate::Hold { .. }
        ));
        let no_consent = AdFacts {
            marketing_consent: false,
            sent_this_week: 99,
            ..facts()
        };
        assert_eq!(
            advertising_gate(&no_consent, now, SEOUL, &policy),
            Gate::Refuse
        );
        let no_advertising = PolicyConfig {
            marketing_per_week: 0,
            ..PolicyConfig::default()
        };
        assert_eq!(
            advertising_gate(
                &facts(),
                at(SEOUL, "2025-03-11 12:00"),
                SEOUL,
                &no_advertising
            ),
            Gate::Refuse
        );
    }

    #[test]
    fn quiet_hours_follow_the_shop_zone_across_dst() {
        let policy = PolicyConfig::default();
        // Spring-forward night in New York: 22:30 EST is held until 08:00 EDT.
        assert_eq!(
            advertising_gate(
                &facts(),
                at(NEW_YORK, "2025-03-08 22:30"),
                NEW_YORK,
                &policy
            ),
            Gate::Hold {
                until: utc("2025-03-09T12:00:00Z")
            }
        );
        assert_eq!(
            advertising_gate(
                &facts(),
                at(NEW_YORK, "2025-03-09 08:00"),
                NEW_YORK,
                &policy
            ),
            Gate::Send
        );
    }

    #[test]
    fn journeys_wait_for_the_send_window() {
        let policy = PolicyConfig::default();
        assert_eq!(
            journey_window(&policy, at(SEOUL, "2025-03-11 12:00"), SEOUL),
            None
        );
        assert_eq!(
            journey_window(&policy, at(SEOUL, "2025-03-11 20:30"), SEOUL),
            Some(at(SEOUL, "2025-03-12 09:00"))
        );
    }
}
