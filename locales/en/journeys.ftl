# Journeys after a purchase: thanks for watching, check-ins, birthdays, win-backs, live alerts, consent re-notices.

journey-engaged-thanks = Thank you for watching "{ $broadcast }" with us! Tap below to hear about the next live first.
journey-checkin = { $name }, how is your { $items } working for you? A rating helps us a lot.
journey-checkin-thanks = Thank you for telling us! We hope to see you again soon.
journey-checkin-sorry = We are sorry it is not right. Tap below and a person will help you.
journey-birthday = Happy birthday! 🎂 We hope your day is wonderful.
journey-birthday-coupon = Happy birthday! 🎂 A small gift from us, a birthday coupon: { $code }
    Enter it at checkout.
journey-winback-a = It has been a while! Lots of new things have arrived — we would love to see you at a live again.
journey-winback-b = How have you been? We would love to see you at our next live.
journey-winback-category-a = It has been a while! Did you enjoy your { $category }? New { $category } pieces are coming up in our lives.
journey-winback-category-b = How have you been? We remembered you liked { $category } — this season's new { $category } is ready.
journey-welcome-back = So good to see you back! 🙌 We will prepare this order with care.
alert-live-scheduled = 📺 Next live: "{ $title }" starts { $starts }. { $url }
alert-live-now = 🔴 We are live now: "{ $title }" { $url }
button-alerts-on = Tell me about lives
alerts-usage = Usage: /alerts on or /alerts off
alerts-on = We will tell you when the next live is set. To stop: /alerts off
alerts-off = No more live alerts.
alerts-need-consent = Live alerts are advertising, so they need your consent to advertising first.

consent-renotice = { $shop }: you agreed to receive advertising on { $date }. Nothing to do if you want to keep receiving it; send /stop at any time to stop.
consent-changed-marketing-yes = { $shop } recorded your consent to advertising. (Date: { $date }) Send /stop at any time to withdraw.
consent-changed-marketing-no = { $shop } recorded that you withdrew your consent to advertising. (Date: { $date }) Order notes continue.
consent-changed-night-yes = { $shop } recorded your consent to advertising at night ({ $hours }). (Date: { $date })
consent-changed-night-no = { $shop } recorded that you withdrew your consent to advertising at night ({ $hours }). (Date: { $date })
journey-cart-reminder = Your cart still holds { $others ->
        [0] { $first }
       *[other] { $first } and { $others } more
    }. Take a look and order whenever it suits you. 🛒
journey-digest = 📬 This week at { $shop }.{ $count ->
        [0] {""}
       *[other] {"\u000A"}Coming lives:{"\u000A"}{ $lives }
    }{ $vip ->
        [yes] {"\u000A"}💎 There is news in the VIP lounge: VIP customers hear it first.
       *[no] {""}
    }
journey-digest-live = • “{ $title }” { $starts }

# Personalised picks: something that goes with what they bought is in the coming live.
alert-live-scheduled-pick = 📺 Next live: "{ $title }" starts { $starts }.
    Enjoying your { $bought }? { $pick }, which goes well with it, is in this live. { $url }

# Trust recovery (win-back by cause): empathy, then what changed (/changed), then the invitation.
journey-trust-delivery-a = Your last order reached you late, and we kept you waiting. We are truly sorry.
    { $changed ->
        [yes] Since then we changed this: { $note }
       *[no] Since then we have gone through how we ship, step by step, so it does not happen again.
    }
    We would love to see you at our next live.
journey-trust-delivery-b = Waiting for an order that is late is frustrating — we understand.
    { $changed ->
        [yes] So we changed this: { $note }
       *[no] So we now watch every delivery date more closely.
    }
    This time it will arrive on time. See you at the live.
journey-trust-quality-a = What you received last time did not live up to what you expected. We are sorry.
    { $changed ->
        [yes] Since then we changed this: { $note }
       *[no] Since then we have gone through how we choose and check our products.
    }
    We would love another chance at our next live.
journey-trust-quality-b = You were let down by what you received, and we took that to heart.
    { $changed ->
        [yes] So we changed this: { $note }
       *[no] So we now check every product we show more carefully.
    }
    We would like to show you the difference at a live.
journey-trust-service-a = When you asked us for help last time, it was not as easy as it should have been. We are sorry.
    { $changed ->
        [yes] Since then we changed this: { $note }
       *[no] Since then we have gone through how we answer, to be quicker and clearer.
    }
    You are always welcome back. See you at the live.
journey-trust-service-b = We did not help you as well as we should have when you needed it — we understand.
    { $changed ->
        [yes] So we changed this: { $note }
       *[no] So we now take more care with every question.
    }
    We would love to see you at our next live.
journey-trust-general-a = It has been a while! How have you been?
    { $changed ->
        [yes] Here is what is new: { $note }
       *[no] Lots of new things have arrived.
    }
    We would love to see you at a live again.
journey-trust-general-b = How have you been? We have missed you.
    { $changed ->
        [yes] Meanwhile we changed this: { $note }
       *[no] We have been preparing lots of new things.
    }
    We would love to see you at our next live.
