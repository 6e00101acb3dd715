# Staff chat commands and the report.

staff-refused = Sorry, only registered staff can use this command.
staff-usage-ended = Usage: /ended BROADCAST_ID
staff-ended = Broadcast { $broadcast } is recorded as ended. { $count } new thank-you notes are on their way.
staff-usage-delay = Usage: /delay BROADCAST_ID YYYY-MM-DD reason
staff-delayed = { $count } open orders of broadcast { $broadcast } get a delay note (new date { $date }).
staff-usage-report = Usage: /report BROADCAST_ID
staff-report = { $report }
staff-report-unknown = Nothing is recorded for broadcast { $broadcast }.

report-text = 📊 Report for “{ $broadcast }”
    Buyers { $buyers } (linked { $linked }, not linked { $unlinked })
    Thank-you notes: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked }
    { $platforms }
    Order notes: shipped { $shipped } · delayed { $delayed } · delivered { $notes_delivered } · cancelled { $cancelled } · refunded { $refunded }
    Ratings: { $feedback } · mean { $mean } · distribution { $distribution } · comments { $comments }
    Hand-offs: { $opened } opened · { $answered } answered within the promise · { $open } still open
    Codes: sent { $codes_sent } · redeemed { $codes_redeemed } · violations { $codes_violations }
    Advertising: held for quiet hours { $ads_held } · postponed by the weekly cap { $ads_postponed } · refused without consent { $ads_refused } · expired { $ads_expired }
    Ordered again: within 7 days { $re7 }{ $re7_complete ->
        [yes] {""}
       *[no] {" (still counting)"}
    } · within 30 days { $re30 }{ $re30_complete ->
        [yes] {""}
       *[no] {" (still counting)"}
    } · within 90 days { $re90 }{ $re90_complete ->
        [yes] {""}
       *[no] {" (still counting)"}
    }
    Ordered again within 30 days: { $linked_re30 } of { $linked_buyers } linked buyers · { $unlinked_re30 } of { $unlinked_buyers } not linked · watched the next live { $watched_next }
    Picks in alerts: sent { $picks_sent } · the picked product ordered within 7 days { $picks_ordered }
    By kind:
    { $kinds }
report-kind-line = • { $kind }: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked }
report-platform-line = • { $platform ->
        [telegram] Telegram
       *[discord] Discord
    }: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked }
report-kakao-line = • KakaoTalk 알림톡: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked } · no template { $no_template }

staff-usage-reply = Usage: /reply TICKET text (or reply to the ticket card)
staff-usage-close = Usage: /close TICKET
staff-usage-reflected = Usage: /reflected FEEDBACK_ID (or BROADCAST_ID) what you changed
staff-ticket-card = 🎫 Request #{ $ticket } · { $name } ({ $customer })
    Tier: { $tier }
    Recent orders: { $orders }
    Last messages:
    { $messages }
    Reply to this message or use /reply { $ticket } text. When done: /close { $ticket }
staff-ticket-relay = #{ $ticket } { $name }: { $text }
staff-ticket-unknown = No request #{ $ticket } was found.
staff-ticket-closed-already = Request #{ $ticket } is already closed.
staff-ticket-closed = Request #{ $ticket } is closed; the customer was asked to rate the help.
staff-ticket-reminder = ⏰ Request #{ $ticket } has had no answer for { $hours } hours. The customer got a progress note.
staff-feedback-comment = 💬 Feedback #{ $feedback } (broadcast { $broadcast }, rated { $rating }) { $name }: { $text }
    Acted on it? /reflected { $feedback } what you changed
staff-reflected = { $count } customers who gave that feedback will hear that it was acted on.
staff-reflected-unknown = No feedback { $feedback } was found.

period-report-text = 📊 Report since { $since }
    Codes: sent { $sent } · redeemed { $redeemed } · violations { $violations }
    { $campaigns }
    Journeys:
    { $journeys }
    Advertising: held for quiet hours { $held } · postponed by the weekly cap { $postponed } · refused without consent { $refused } · expired { $expired }
period-report-campaign = • { $campaign }: sent { $sent } · redeemed { $redeemed } · violations { $violations } · codes left { $left }
period-report-journey = • { $journey } ({ $variant }): sent { $sent } · ordered within 7 days { $conversions }
period-report-journey-cause = {"    "}◦ cause { $cause }: sent { $sent } · ordered again within 30 days { $returned }
staff-usage-changed = Usage: /changed delivery|quality|service|price what you changed
staff-changed = Noted ({ $cause }): { $note }
    Win-backs for this cause quote it from now on.
staff-changed-too-long = That is too long: at most { $max } characters, not { $chars }.
