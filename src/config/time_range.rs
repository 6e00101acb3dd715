//! `TimeRange`: a daily span of shop time written `"HH:MM-HH:MM"` (quiet hours, the send window).
//!
//! It owns reading, showing and testing membership; it knows nothing of time zones (the caller
//! converts to shop time first).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `"HH:MM-HH:MM"` in shop time. It may wrap midnight (`21:00-08:00`); start and end may not be
/// equal, because that would be ambiguous between "never" and "always".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    // Evaluated at compile time only (the constants below), so a bad literal fails the build.
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => panic!("not a time of day"),
    }
}

impl TimeRange {
    pub(super) const DEFAULT_QUIET_HOURS: TimeRange = TimeRange {
        start: hm(21, 0),
        end: hm(8, 0),
    };
    pub(super) const DEFAULT_SEND_WINDOW: TimeRange = TimeRange {
        start: hm(9, 0),
        end: hm(20, 0),
    };

    /// Whether `t` falls inside: the start is inside, the end is not; a range that wraps midnight
    /// covers the late evening and the early morning.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// Reads `"HH:MM-HH:MM"` (spaces around the parts are allowed). The error says what is wrong
    /// with the text; the caller adds which setting it was.
    pub fn parse(s: &str) -> Result<TimeRange, String> {
        let bad = || format!("`{s}` is not a time range like 21:00-08:00");
        let (start, end) = s.split_once('-').ok_or_else(bad)?;
        let start = parse_hour_minute(start.trim()).ok_or_else(bad)?;
        let end = parse_hour_minute(end.trim()).ok_or_else(bad)?;
        if start == end {
            return Err(format!(
                "`{s}` starts and ends at the same time; give two different times (a range may wrap midnight, like 21:00-08:00)"
            ));
        }
        Ok(TimeRange { start, end })
    }
}

fn parse_hour_minute(s: &str) -> Option<NaiveTime> {
    let (hour, minute) = s.split_once(':')?;
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour) || !digits(minute) || hour.len() > 2 || minute.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hour.parse().ok()?, minute.parse().ok()?, 0)
}

/// A time of day in shop time, written `"HH:MM"` (`policy.digest_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOfDay(pub NaiveTime);

impl TimeOfDay {
    pub(super) const DEFAULT_DIGEST: TimeOfDay = TimeOfDay(hm(18, 0));

    pub fn parse(s: &str) -> Result<TimeOfDay, String> {
        parse_hour_minute(s.trim())
            .map(TimeOfDay)
            .ok_or_else(|| format!("`{s}` is not a time of day like 18:00"))
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TimeOfDay::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%H:%M"))
    }
}

/// A day of the week in shop time, written `"mon"` … `"sun"` (`policy.digest_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShopWeekday(pub chrono::Weekday);

const WEEKDAYS: [(&str, chrono::Weekday); 7] = [
    ("mon", chrono::Weekday::Mon),
    ("tue", chrono::Weekday::Tue),
    ("wed", chrono::Weekday::Wed),
    ("thu", chrono::Weekday::Thu),
    ("fri", chrono::Weekday::Fri),
    ("sat", chrono::Weekday::Sat),
    ("sun", chrono::Weekday::Sun),
];

impl ShopWeekday {
    pub fn parse(s: &str) -> Result<ShopWeekday, String> {
        let wanted = s.trim().to_ascii_lowercase();
        WEEKDAYS
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, day)| ShopWeekday(*day))
            .ok_or_else(|| {
                format!("`{s}` is not a day of the week: write mon, tue, wed, thu, fri, sat or sun")
            })
    }

    fn name(self) -> &'static str {
        WEEKDAYS
            .iter()
            .find(|(_, day)| *day == self.0)
            .map_or("fri", |(name, _)| name)
    }
}

impl<'de> Deserialize<'de> for ShopWeekday {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ShopWeekday::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ShopWeekday {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl FromStr for TimeRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeRange::parse(s)
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TimeRange::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::error;

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let quiet = TimeRange::parse("21:00-08:00").unwrap();
        assert!(quiet.contains(time("22:30")));
        assert!(quiet.contains(time("21:00")), "the start is inside");
        assert!(quiet.contains(time("00:00")));
        assert!(quiet.contains(time("07:59")));
        assert!(!quiet.contains(time("08:00")), "the end is outside");
        assert!(!quiet.contains(time("12:00")));
        assert!(!quiet.contains(time("20:59")));

        let window = TimeRange::parse("09:00-20:00").unwrap();
        assert!(window.contains(time("09:00")));
        assert!(!window.contains(time("20:00")));
        assert!(!window.contains(time("08:59")));
    }

    #[test]
    fn a_time_range_reads_and_prints_hh_mm_and_refuses_nonsense() {
        assert_eq!(
            TimeRange::parse(" 9:05 - 17:30 ").unwrap().to_string(),
            "09:05-17:30"
        );
        assert_eq!(
            "21:00-08:00".parse::<TimeRange>().unwrap(),
            TimeRange::DEFAULT_QUIET_HOURS
        );
        for bad in [
            "",
            "21:00",
            "21-08",
            "25:00-08:00",
            "21:60-08:00",
            "21:00-8",
            "a:bc-08:00",
        ] {
            assert!(TimeRange::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let message = error("[policy]\nsend_window = \"10:00-10:00\"\n", &[]);
        assert!(
            message.starts_with(
                "`policy.send_window`: `10:00-10:00` starts and ends at the same time"
            ),
            "{message}"
        );
    }

    #[test]
    fn the_digest_day_and_time_read_like_the_contract_and_refuse_nonsense_naming_the_key() {
        assert_eq!(ShopWeekday::parse("Fri").unwrap().0, chrono::Weekday::Fri);
        assert_eq!(
            TimeOfDay::parse("18:00").unwrap(),
            TimeOfDay::DEFAULT_DIGEST
        );
        let message = error("[policy]\ndigest_day = \"funday\"\n", &[]);
        assert!(
            message.starts_with("`policy.digest_day`: `funday` is not a day of the week"),
            "{message}"
        );
        let message = error("[policy]\ndigest_time = \"25:00\"\n", &[]);
        assert!(
            message.starts_with("`policy.digest_time`: `25:00` is not a time of day"),
            "{message}"
        );
    }
}
