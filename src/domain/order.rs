//! Orders and their states.

use std::fmt;
use std::str::FromStr;

/// The states of CONTRACT §3, plus `placed` for an order whose shop has not yet sent a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Placed,
    AwaitingPayment,
    Paid,
    Preparing,
    PartiallyShipped,
    Shipped,
    Delayed,
    Delivered,
    Cancelled,
    Refunded,
    ReturnRequested,
    Returned,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 12] = [
        OrderStatus::Placed,
        OrderStatus::AwaitingPayment,
        OrderStatus::Paid,
        OrderStatus::Preparing,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Delayed,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::ReturnRequested,
        OrderStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Preparing => "preparing",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delayed => "delayed",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::ReturnRequested => "return_requested",
            OrderStatus::Returned => "returned",
        }
    }

    /// The status changes a buyer hears about on their own (issue #2): the others show up in
    /// the thank-you and in `/mydata`, but do not deserve a message of their own.
    pub fn deserves_a_note(self) -> bool {
        matches!(
            self,
            OrderStatus::Shipped
                | OrderStatus::Delayed
                | OrderStatus::Delivered
                | OrderStatus::Cancelled
                | OrderStatus::Refunded
        )
    }

    /// An order that is still on its way to the buyer: the ones a `/delay` applies to.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            OrderStatus::Delivered
                | OrderStatus::Cancelled
                | OrderStatus::Refunded
                | OrderStatus::ReturnRequested
                | OrderStatus::Returned
                | OrderStatus::Shipped
        )
    }

    /// Refunded and cancelled orders do not count as purchases (tiers, thank-yous).
    pub fn counts_as_purchase(self) -> bool {
        !matches!(self, OrderStatus::Cancelled | OrderStatus::Refunded)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown order status `{s}`; expected one of: {}",
                    OrderStatus::ALL[1..]
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
    }

    #[test]
    fn an_unknown_status_names_the_ones_that_exist() {
        let err = "sent".parse::<OrderStatus>().unwrap_err();
        assert!(err.contains("`sent`") && err.contains("shipped"), "{err}");
    }
}
