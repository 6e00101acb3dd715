# Staff chat commands and the report.

staff-refused = Sorry, only registered staff can use this command.
staff-usage-ended = Usage: /ended BROADCAST_ID
staff-ended = Broadcast { $broadcast } is recorded as ended. { $count } new thank-you notes are on their way.
staff-usage-delay = Usage: /delay BROADCAST_ID YYYY-MM-DD reason
staff-delayed = { $count } open orders of broadcast { $broadcast } get a delay note (new date { $date }).
staff-usage-report = Usage: /report BROADCAST_ID
staff-report = { $report }
staff-report-unknown = Nothing is recorded for broadcast { $broadcast }.
staff-not-yet = /{ $command } is not available in this version yet.

report-text = 📊 Report for “{ $broadcast }”
    Buyers { $buyers } (linked { $linked }, not linked { $unlinked })
    Thank-you notes: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked }
    Order notes: shipped { $shipped } · delayed { $delayed } · delivered { $notes_delivered } · cancelled { $cancelled } · refunded { $refunded }
    By kind:
    { $kinds }
report-kind-line = • { $kind }: sent { $sent } · delivered { $delivered } · failed { $failed } · blocked { $blocked }
