//! KakaoTalk 알림톡 (CONTRACT §11) as plain rules: which numbers encore takes as a customer's
//! `phone`, which notes may go by 알림톡 and by what name `[kakao.templates]` knows them, and
//! which `#{…}` variables each of those templates carries. No I/O: the client is
//! `platforms::kakao`, the words of the variables are `outbox::render`'s.

use std::fmt;

/// A Korean mobile number, digits only (`01012345678`), as the shop sends it and as the dealer
/// takes it for `to`. Shown only to its owner (`/mydata`) and the shop (the customer record);
/// never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// `010` numbers have 11 digits; the older `011`, `016`, `017`, `018` and `019` ones 10 or
    /// 11. The error does not repeat the text: it may be someone's number.
    pub fn parse(text: &str) -> Result<MobileNumber, String> {
        let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let valid = digits_only
            && match text.get(..3) {
                Some("010") => text.len() == 11,
                Some("011" | "016" | "017" | "018" | "019") => matches!(text.len(), 10 | 11),
                _ => false,
            };
        if valid {
            Ok(MobileNumber(text.to_string()))
        } else {
            Err(
                "is not a Korean mobile number: write its digits only, without `-` or +82 \
                 (01012345678)"
                    .to_string(),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Debug output hides all but the last four digits, so a stray `{:?}` in a log names nobody.
impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self.0.len().saturating_sub(4);
        write!(f, "MobileNumber(…{})", &self.0[tail..])
    }
}

/// The thank-you's name in `[kakao.templates]`.
pub const THANK_YOU: &str = "thank-you";

/// Every note that may go by 알림톡, by its name in `[kakao.templates]`: the thank-you and the
/// order notes (`order-<status>`). Nothing advertising, nothing that needs a button or an
/// answer (CONTRACT §6, §11).
pub const TEMPLATE_NAMES: [&str; 7] = [
    THANK_YOU,
    "order-placed",
    "order-shipped",
    "order-delayed",
    "order-delivered",
    "order-cancelled",
    "order-refunded",
];

/// The name of the note about an order's `status` (`order-delayed`).
pub fn order_note_name(status: &str) -> String {
    format!("order-{status}")
}

/// The `#{…}` variables of the template registered for `name` (docs/kakao.md gives the texts):
/// exactly these are sent, as Kakao matches a message against its approved template. The names
/// are those of the chat message's own arguments. Empty for a name that is not a note.
pub fn variables_of(name: &str) -> &'static [&'static str] {
    match name {
        THANK_YOU => &["name", "broadcast", "items", "status"],
        "order-placed" => &["name", "order", "items", "total"],
        "order-shipped" => &["name", "items", "carrier", "tracking"],
        "order-delayed" => &["name", "items", "reason", "date"],
        "order-delivered" => &["name", "items"],
        "order-cancelled" => &["name", "order", "items"],
        "order-refunded" => &["name", "items", "total"],
        _ => &[],
    }
}

/// A variable as the dealer takes it: `#{name}`.
pub fn placeholder(variable: &str) -> String {
    format!("#{{{variable}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_digits_only_with_a_mobile_prefix() {
        for good in ["01012345678", "0111234567", "01612345678", "0191234567"] {
            assert_eq!(MobileNumber::parse(good).map(|n| n.0), Ok(good.to_string()));
        }
        for bad in [
            "",
            "010-1234-5678",
            "+821012345678",
            "0101234567",
            "010123456789",
            "0212345678",
            "01512345678",
            "０１０１２３４５６７８",
        ] {
            assert!(MobileNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_number_in_debug_output_shows_only_its_last_digits() {
        let number = MobileNumber::parse("01012345678").unwrap();
        assert_eq!(format!("{number:?}"), "MobileNumber(…5678)");
    }

    #[test]
    fn every_template_has_the_name_variable_and_only_notes_have_variables() {
        for name in TEMPLATE_NAMES {
            assert_eq!(variables_of(name).first(), Some(&"name"), "{name}");
        }
        assert!(variables_of("vip-code").is_empty());
        assert_eq!(order_note_name("delayed"), "order-delayed");
        assert_eq!(placeholder("reason"), "#{reason}");
    }
}
