//! Trust recovery (CONTRACT §6): why a silent customer may have left, read from their history,
//! and what the shop changed because of it (`/changed`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// What `/changed` records a change for, and what a trust-recovery win-back speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// A delayed order.
    Delivery,
    /// A rating of 1–2, a cancellation or a refund.
    Quality,
    /// A ticket they opened.
    Service,
    /// Only in `/changed`: the general win-back may quote it.
    Price,
}

impl Cause {
    pub const ALL: [Cause; 4] = [
        Cause::Delivery,
        Cause::Quality,
        Cause::Service,
        Cause::Price,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Delivery => "delivery",
            Cause::Quality => "quality",
            Cause::Service => "service",
            Cause::Price => "price",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cause {
    type Err = ();
    fn from_str(name: &str) -> Result<Cause, ()> {
        Cause::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
            .ok_or(())
    }
}

/// Something in a customer's history that may have cost the shop their trust, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sign {
    pub cause: Cause,
    pub at: DateTime<Utc>,
}

/// The win-back's variant: the cause of the most recent sign, or `None` for the general one.
/// Signs at the same moment go to the first in [`Cause::ALL`]'s order.
pub fn cause_of(signs: &[Sign]) -> Option<Cause> {
    signs
        .iter()
        .filter(|s| s.cause != Cause::Price)
        .max_by(|a, b| a.at.cmp(&b.at).then(b.cause.cmp(&a.cause)))
        .map(|s| s.cause)
}

/// The name the report and the texts use for a win-back's variant.
pub fn variant_name(cause: Option<Cause>) -> &'static str {
    cause.map_or("general", Cause::as_str)
}

/// A `/changed` note for the general win-back: the newest about price.
pub fn note_cause(cause: Option<Cause>) -> Cause {
    cause.unwrap_or(Cause::Price)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sign(cause: Cause, day: u32) -> Sign {
        Sign {
            cause,
            at: Utc
                .with_ymd_and_hms(2026, 1, day, 0, 0, 0)
                .single()
                .expect("a day"),
        }
    }

    #[test]
    fn the_most_recent_sign_wins() {
        let signs = [
            sign(Cause::Delivery, 3),
            sign(Cause::Quality, 9),
            sign(Cause::Service, 5),
        ];
        assert_eq!(cause_of(&signs), Some(Cause::Quality));
        assert_eq!(cause_of(&signs[..1]), Some(Cause::Delivery));
        assert_eq!(cause_of(&[]), None);
        assert_eq!(
            cause_of(&[sign(Cause::Service, 4), sign(Cause::Delivery, 4)]),
            Some(Cause::Delivery)
        );
    }

    #[test]
    fn causes_read_as_staff_write_them() {
        assert_eq!("delivery".parse::<Cause>(), Ok(Cause::Delivery));
        assert_eq!("PRICE".parse::<Cause>(), Ok(Cause::Price));
        assert!("shipping".parse::<Cause>().is_err());
        assert_eq!(variant_name(None), "general");
        assert_eq!(note_cause(None), Cause::Price);
        assert_eq!(note_cause(Some(Cause::Service)), Cause::Service);
    }
}
