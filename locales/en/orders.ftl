# Orders and the thank-you after a broadcast.

items-summary = { $others ->
    [0] { $first }
    [one] { $first } and 1 more item
   *[other] { $first } and { $others } more items
}

thank-you-header = { $name }, thank you so much for joining “{ $broadcast }” today.
    Here is what you ordered and where it stands right now.
thank-you-order-line = • { $items } — ₩{ $total } · { $status }
thank-you-footer = We will tell you right here when it ships or if anything changes. Questions are welcome in this chat anytime.

order-status-placed = order received
order-status-awaiting_payment = awaiting payment
order-status-paid = paid
order-status-preparing = being prepared
order-status-partially_shipped = partly shipped
order-status-shipped = shipped
order-status-delayed = delayed
order-status-delivered = delivered
order-status-cancelled = cancelled
order-status-refunded = refunded
order-status-return_requested = return requested
order-status-returned = returned
order-status-with-tracking = { $status } ({ $carrier } { $tracking })
order-status-delayed-until = delayed · new date { $date }

order-note-shipped = { $name }, your order ({ $items }) shipped today! 🚚
    Carrier: { $carrier }
    Tracking number: { $tracking }
order-note-tracking-url = Track it: { $url }
order-note-delayed = { $name }, we are sorry — your order ({ $items }) is running late.
    Reason: { $reason }
    New ship date: { $date }
    We know you are waiting, and we are doing all we can to get it to you sooner. Sorry for the trouble.
order-note-delivered = { $name }, your order ({ $items }) has arrived. We hope you love it!
order-note-cancelled = { $name }, your order of { $items } was cancelled. If anything is unclear, just write here.
order-note-refunded = { $name }, your refund for { $items } (₩{ $total }) is done. Your card issuer may take a few days to show it.
order-note-placed = { $name }, we got your order of { $items } too! We will let you know when it ships.
