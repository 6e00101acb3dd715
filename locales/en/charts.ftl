# The broadcast's charts (src/charts/): the labels drawn into the picture.

chart-title = Broadcast report: { $broadcast }
chart-summary = { $buyers ->
    [one] 1 buyer
   *[other] { $buyers } buyers
} · { $linked } linked · { $rated ->
    [one] 1 rating
   *[other] { $rated } ratings
} · { $reordered } ordered again within 30 days
chart-funnel-title = How far the thank-you reached
chart-funnel-buyers = Buyers
chart-funnel-linked = Linked
chart-funnel-thanked = Thanked
chart-funnel-delivered = Delivered
chart-funnel-rated = Rated
chart-funnel-value = { $count } · { $percent }%
chart-rating-title = Ratings
chart-rating-summary = Mean { $mean } · { $count ->
    [one] 1 rating
   *[other] { $count } ratings
}
chart-rating-stars = { $stars ->
    [one] 1 star
   *[other] { $stars } stars
}
chart-rating-empty = No ratings yet
chart-comeback-title = Did they come back? Share of buyers who ordered again, 90 days after the broadcast
chart-comeback-linked = Linked buyers ({ $buyers })
chart-comeback-unlinked = Unlinked buyers ({ $buyers })
chart-comeback-day = day { $day }
chart-comeback-axis = Days since the broadcast ended
chart-comeback-empty = No buyer has ordered again yet
chart-percent = { $percent }%
